import Foundation
import Logging
import SessionHostModel
import ServiceLifecycle
import Synchronization
import Testing

@testable import AllocationService
@testable import SessionHostSDK

/// The injectable clocks, the manual clock of the tests, and the components that read time
/// from them.
@Suite("clocks")
struct ClockTests {
    /// Counts calls.
    final class Counter: Sendable {
        let count = Mutex(0)
        func increment() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }

    @Test("the manual clock resumes a sleeper only once advanced to its deadline; its wall clock moves with it")
    func manualClock() async throws {
        let clock = ManualClock(startDate: Date(timeIntervalSince1970: 1_000))
        let woke = Counter()
        let sleeper = Task {
            try await clock.sleep(for: .seconds(10))
            woke.increment()
        }
        try await clock.advance(by: .seconds(9), afterSleepers: 1)
        #expect(clock.sleeperCount == 1, "9 s: still asleep")
        #expect(woke.value == 0)
        clock.advance(by: .seconds(1))
        try await Deadline.within(.seconds(30), "the sleeper") { try await sleeper.value }
        #expect(woke.value == 1)
        #expect(clock.wallClock.now == Date(timeIntervalSince1970: 1_010))
        #expect(clock.instant(in: .seconds(5)).remaining == .seconds(5))
    }

    @Test("a sleeper on the manual clock that is cancelled throws at once and leaves no sleeper behind")
    func manualClockCancellation() async throws {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(3600)) }
        try await clock.waitForSleepers(1)
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test("a type-erased instant reads and sleeps on its own clock")
    func clockInstant() async throws {
        let clock = ManualClock()
        let erased: any Clock<Duration> = clock
        let deadline = erased.instant(in: .seconds(2))
        #expect(!deadline.hasPassed)
        let sleeper = Task { try await deadline.sleep() }
        try await clock.advance(by: .seconds(2), afterSleepers: 1)
        try await Deadline.within(.seconds(30), "the sleeper") { try await sleeper.value }
        #expect(deadline.hasPassed)
        #expect(deadline.elapsed == .zero)
        #expect(deadline.advanced(by: .seconds(1)).remaining == .seconds(1))
    }

    @Test("a change waiter gives up at its deadline on the notifier's clock, not before")
    func changeWaitDeadline() async throws {
        let clock = ManualClock()
        let notifier = ChangeNotifier()
        let reads = Counter()
        let waiter = Task {
            try await notifier.waitForValue(of: .host("vm-1"), until: clock.instant(in: .seconds(60))) {
                () -> String? in
                reads.increment()
                return nil
            }
        }
        try await clock.advance(by: .seconds(59), afterSleepers: 1)
        #expect(clock.sleeperCount == 1, "59 s: still waiting")
        #expect(reads.value == 1)
        clock.advance(by: .seconds(1))
        #expect(try await Deadline.within(.seconds(30), "the waiter") { try await waiter.value } == nil)
        #expect(reads.value == 2, "one read at the start, a last one at the deadline")
    }

    @Test("a cancelled change waiter returns nil at once, and its timer ends with it")
    func changeWaitCancelled() async throws {
        let clock = ManualClock()
        let notifier = ChangeNotifier()
        let waiter = Task {
            try await notifier.waitForValue(of: .host("vm-1"), until: clock.instant(in: .seconds(3600))) {
                () -> String? in nil
            }
        }
        try await clock.waitForSleepers(1)
        waiter.cancel()
        #expect(try await Deadline.within(.seconds(30), "the waiter") { try await waiter.value } == nil)
        #expect(clock.sleeperCount == 0, "no timer outlives the waiter")
    }

    @Test("a stopped change waiter (its connection closed) returns nil at once, and its timer ends with it")
    func changeWaitStopped() async throws {
        let clock = ManualClock()
        let notifier = ChangeNotifier()
        let stop = WaitStop()
        let reads = Counter()
        let waiter = Task {
            try await notifier.waitForValue(
                of: [.host("vm-1")], until: clock.instant(in: .seconds(3600)), stop: stop
            ) { () -> String? in
                reads.increment()
                return nil
            }
        }
        try await clock.waitForSleepers(1)
        stop.stop()
        #expect(try await Deadline.within(.seconds(30), "the waiter") { try await waiter.value } == nil)
        #expect(clock.sleeperCount == 0, "no timer outlives the waiter")
        #expect(await notifier.waiterCount == 0)
        #expect(reads.value == 2, "one read at the start, a last one after the stop")

        // Stopped before it waits: one read, no timer.
        let again = try await notifier.waitForValue(
            of: [.host("vm-1")], until: clock.instant(in: .seconds(3600)), stop: stop
        ) { () -> String? in nil }
        #expect(again == nil)
        #expect(clock.sleeperCount == 0)
    }

    @Test("a host whose poll was answered empty is down once the re-poll grace passed on the channels' clock")
    func repollGrace() {
        let clock = ManualClock()
        let channels = HandoffChannels(repollGrace: .seconds(2), clock: clock)
        channels.pollStarted(hostId: "vm-1")
        channels.pollEnded(hostId: "vm-1", outcome: .answeredEmpty)
        clock.advance(by: .milliseconds(1999))
        #expect(channels.unreachableHosts().isEmpty)
        clock.advance(by: .milliseconds(1))
        #expect(channels.unreachableHosts() == ["vm-1"])
    }

    @Test("HeartbeatLoop as a Service: beats now and every interval of its clock, and stops on graceful shutdown")
    func heartbeatService() async throws {
        let clock = ManualClock()
        let beats = Counter()
        let loop = HeartbeatLoop(every: .seconds(5), clock: clock, send: { beats.increment() }, onError: { _ in })
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [loop], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        let running = Task { try await group.run() }
        try await clock.waitForSleepers(1)
        #expect(beats.value == 1, "the first heartbeat goes at once")
        try await clock.advance(by: .seconds(4), afterSleepers: 1)
        #expect(beats.value == 1)
        try await clock.advance(by: .seconds(1), afterSleepers: 1)
        try await clock.advance(by: .seconds(5), afterSleepers: 1)
        try await clock.waitForSleepers(1)
        #expect(beats.value == 3, "at 0, 5 and 10 s")
        await group.triggerGracefulShutdown()
        try await Deadline.within(.seconds(30), "the service group") { try await running.value }
        #expect(clock.sleeperCount == 0)
        #expect(beats.value == 3)
    }

    @Test("HeartbeatLoop.start beats in a task of its own until stop")
    func heartbeatStartStop() async throws {
        let clock = ManualClock()
        let beats = Counter()
        let loop = HeartbeatLoop(every: .seconds(5), clock: clock, send: { beats.increment() }, onError: { _ in })
        let started = HeartbeatLoop.start(loop)
        try await clock.advance(by: .seconds(5), afterSleepers: 1)
        try await clock.waitForSleepers(1)
        #expect(beats.value == 2)
        started.stop()
        #expect(clock.sleeperCount == 0, "stopping ends its sleep at once")
        clock.advance(by: .seconds(5))
        #expect(beats.value == 2)
    }
}
