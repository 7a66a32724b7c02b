@testable import AllocationService
import Synchronization
import Testing

/// Change notifications across instances: what the notifier publishes and receives, and the
/// relay's payloads. (The relay over a real PostgreSQL runs in `GSMSMultiInstanceTests`.)
@Suite("change relay")
struct ChangeRelayTests {
    /// Records what is published.
    final class RecordingRelay: ChangeRelay {
        let published = Mutex<[ChangeTopic]>([])
        func publish(_ topic: ChangeTopic) async { published.withLock { $0.append(topic) } }
    }

    /// A value that the test sets, read by a waiter each time it wakes.
    final class Box: Sendable {
        let value = Mutex<String?>(nil)
        let reads = Mutex(0)
        func read() -> String? {
            reads.withLock { $0 += 1 }
            return value.withLock { $0 }
        }
    }

    @Test("a change notified here is published; one received from another instance is not published again")
    func publishesOwnChangesOnly() async throws {
        let relay = RecordingRelay()
        let notifier = ChangeNotifier(relay: relay)
        await notifier.notify(.host("vm-1"))
        await notifier.notify(.session(titleId: "1234", sessionId: "s"))
        await notifier.receive(.host("vm-2"))
        #expect(relay.published.withLock { $0 } == [.host("vm-1"), .session(titleId: "1234", sessionId: "s")])
    }

    @Test("a change received from another instance wakes the waiters of its topic")
    func receivedChangeWakes() async throws {
        let notifier = ChangeNotifier(relay: RecordingRelay())
        let box = Box()
        let waiter = Task {
            try await notifier.waitForValue(of: .host("vm-1"), until: ContinuousClock().instant(in: .seconds(600))) {
                box.read()
            }
        }
        try await Deadline.waitUntil("the waiter's first read") { box.reads.withLock { $0 } >= 1 }
        box.value.withLock { $0 = "handoff" }
        await notifier.receive(.host("vm-1"))
        #expect(try await Deadline.within(.seconds(60), "the wake-up") { try await waiter.value } == "handoff")
    }

    @Test("wakeAll makes every waiter read again; one that finds nothing new keeps waiting")
    func wakeAllRereads() async throws {
        let notifier = ChangeNotifier()
        let box = Box()
        let waiter = Task {
            try await notifier.waitForValue(
                of: .session(titleId: "1234", sessionId: "s"), until: ContinuousClock().instant(in: .seconds(600))
            ) { box.read() }
        }
        try await Deadline.waitUntil("the waiter's first read") { box.reads.withLock { $0 } >= 1 }
        // Nothing new: the waiter reads again and waits again.
        try await Deadline.waitUntilAsync("a re-read after wakeAll") {
            await notifier.wakeAll()
            return box.reads.withLock { $0 } >= 2
        }
        #expect(!waiter.isCancelled)
        box.value.withLock { $0 = "active" }
        try await Deadline.waitUntilAsync("the waiter's value") {
            await notifier.wakeAll()
            return box.reads.withLock { $0 } >= 3
        }
        #expect(try await Deadline.within(.seconds(60), "the waiter") { try await waiter.value } == "active")
    }

    @Test("payloads carry the topic and the sending instance, which ignores its own")
    func payloads() {
        let topics: [ChangeTopic] = [
            .host("vm-1"), .session(titleId: "1234", sessionId: "/serviceconfigs/x/session/a b"),
        ]
        for topic in topics {
            let payload = PostgresChangeRelay.payload(topic, from: "instance-a")
            #expect(PostgresChangeRelay.topic(of: payload, receivedBy: "instance-b") == topic)
            #expect(PostgresChangeRelay.topic(of: payload, receivedBy: "instance-a") == nil)
        }
        for foreign in ["", "instance-a", "other\u{1F}x\u{1F}y", "other\u{1F}h", "other\u{1F}s\u{1F}1234"] {
            #expect(PostgresChangeRelay.topic(of: foreign, receivedBy: "instance-b") == nil)
        }
    }
}
