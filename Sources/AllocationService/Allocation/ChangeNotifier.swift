import SessionHostModel

/// What a waiter waits for: a hand-off for a host, or an acknowledgement of a session.
enum ChangeTopic: Hashable, Sendable {
    /// Something was allocated to this host (its agent's held request wakes).
    case host(String)
    /// The session's allocation changed (its title's waiting request wakes).
    case session(titleId: String, sessionId: String)
}

/// Passes changes on to the other gsmsd instances that share the store (PostgreSQL).
protocol ChangeRelay: Sendable {
    /// Tells the other instances that `topic` changed; the change is committed already.
    func publish(_ topic: ChangeTopic) async
}

/// Wakes tasks waiting for a change, without polling. A waiter subscribes *before* it reads the
/// store, so that a change made between its read and its wait still wakes it.
///
/// With a `relay`, every change notified here is also published to the other instances, and
/// their changes come in through `receive`; when the relay may have lost some, `wakeAll`
/// makes every waiter re-read (a waiter that finds nothing new waits again).
actor ChangeNotifier {
    private enum Waiter {
        case idle
        case notified
        case waiting(CheckedContinuation<Void, Never>)
    }

    private var waiters: [ChangeTopic: [UInt64: Waiter]] = [:]
    private var nextID: UInt64 = 0
    private let relay: (any ChangeRelay)?

    init(relay: (any ChangeRelay)? = nil) {
        self.relay = relay
    }

    /// Wakes every current subscriber of `topic`, here and, through the relay, on the other
    /// instances.
    func notify(_ topic: ChangeTopic) async {
        receive(topic)
        await relay?.publish(topic)
    }

    /// Wakes every waiter of every topic here (the relay may have missed changes).
    func wakeAll() {
        for topic in Array(waiters.keys) { receive(topic) }
    }

    /// Wakes every current subscriber of `topic` here (a change made here or on another instance).
    func receive(_ topic: ChangeTopic) {
        guard var entries = waiters[topic] else { return }
        for (id, waiter) in entries {
            switch waiter {
            case .idle: entries[id] = .notified
            case .notified: break
            case .waiting(let continuation):
                entries[id] = .notified
                continuation.resume()
            }
        }
        waiters[topic] = entries
    }

    /// Re-checks `read` each time `topic` changes, until it returns a value or `deadline` passes
    /// on its clock. Returns `nil` at the deadline or when the task is cancelled.
    nonisolated func waitForValue<Value: Sendable>(
        of topic: ChangeTopic, until deadline: ClockInstant,
        read: @Sendable () async throws -> Value?
    ) async throws -> Value? {
        while true {
            let id = await subscribe(topic)
            do {
                if let value = try await read() {
                    await unsubscribe(topic, id)
                    return value
                }
            } catch {
                await unsubscribe(topic, id)
                throw error
            }
            if deadline.hasPassed || Task.isCancelled {
                await unsubscribe(topic, id)
                return nil
            }
            await wait(topic, id, until: deadline)
        }
    }

    private func subscribe(_ topic: ChangeTopic) -> UInt64 {
        nextID += 1
        waiters[topic, default: [:]][nextID] = .idle
        return nextID
    }

    private func unsubscribe(_ topic: ChangeTopic, _ id: UInt64) {
        guard var entries = waiters[topic] else { return }
        if case .waiting(let continuation) = entries.removeValue(forKey: id) {
            continuation.resume()
        }
        waiters[topic] = entries.isEmpty ? nil : entries
    }

    /// Suspends until notified, the deadline, or cancellation; always unsubscribes. The timer is
    /// a child task of the waiter: cancelling the waiter ends its sleep at once, which wakes the
    /// waiter (unsubscribing resumes it).
    private func wait(_ topic: ChangeTopic, _ id: UInt64, until deadline: ClockInstant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await deadline.sleep()
                await self.unsubscribe(topic, id)
            }
            group.addTask { await self.suspend(topic, id) }
            await group.next()
            group.cancelAll()
        }
        unsubscribe(topic, id)
    }

    /// Suspends until `id` is notified or unsubscribed (at once if it was already).
    private func suspend(_ topic: ChangeTopic, _ id: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            switch waiters[topic]?[id] {
            case .idle?: waiters[topic]?[id] = .waiting(continuation)
            default: continuation.resume() // already notified, timed out or cancelled
            }
        }
    }
}
