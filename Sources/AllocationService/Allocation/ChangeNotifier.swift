import ServiceLifecycle
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

    /// The waiters subscribed to each topic; a waiter may be subscribed to several.
    private var subscribers: [ChangeTopic: Set<UInt64>] = [:]
    /// Each waiter's state and its topics.
    private var waiters: [UInt64: (state: Waiter, topics: [ChangeTopic])] = [:]
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
        for id in Array(waiters.keys) { wake(id) }
    }

    /// Wakes every current subscriber of `topic` here (a change made here or on another instance).
    func receive(_ topic: ChangeTopic) {
        guard let ids = subscribers[topic] else { return }
        for id in ids { wake(id) }
    }

    private func wake(_ id: UInt64) {
        guard let waiter = waiters[id] else { return }
        switch waiter.state {
        case .idle: waiters[id]?.state = .notified
        case .notified: break
        case .waiting(let continuation):
            waiters[id]?.state = .notified
            continuation.resume()
        }
    }

    /// Re-checks `read` each time `topic` changes, until it returns a value or `deadline` passes
    /// on its clock. Returns `nil` at the deadline or when the task is cancelled.
    nonisolated func waitForValue<Value: Sendable>(
        of topic: ChangeTopic, until deadline: ClockInstant,
        read: @Sendable () async throws -> Value?
    ) async throws -> Value? {
        try await waitForValue(of: [topic], until: deadline, read: read)
    }

    /// Re-checks `read` each time any of `topics` changes (one waiter subscribed to all of
    /// them), until it returns a value or `deadline` passes on its clock. Returns `nil` at the
    /// deadline, when the task is cancelled, when `stop` is stopped, and, if
    /// `endingAtGracefulShutdown`, when the service group shuts down gracefully (a held poll
    /// must not hold gsmsd's stop up).
    ///
    /// The wait runs in the caller's task, with one child task for its deadline: a held poll
    /// costs no other task.
    nonisolated func waitForValue<Value: Sendable>(
        of topics: [ChangeTopic], until deadline: ClockInstant, stop: WaitStop? = nil,
        endingAtGracefulShutdown: Bool = false,
        read: @Sendable () async throws -> Value?
    ) async throws -> Value? {
        while true {
            let id = await subscribe(topics)
            do {
                if let value = try await read() {
                    await unsubscribe(id)
                    return value
                }
            } catch {
                await unsubscribe(id)
                throw error
            }
            if deadline.hasPassed || Task.isCancelled || stop?.isStopped == true
                || (endingAtGracefulShutdown && Task.isShuttingDownGracefully)
            {
                await unsubscribe(id)
                return nil
            }
            await wait(id, until: deadline, stop: stop, endingAtGracefulShutdown: endingAtGracefulShutdown)
        }
    }

    /// How many waiters are subscribed now (for tests: nothing is left behind).
    var waiterCount: Int { waiters.count }

    private func subscribe(_ topics: [ChangeTopic]) -> UInt64 {
        nextID += 1
        let unique = Array(Set(topics))
        waiters[nextID] = (.idle, unique)
        for topic in unique { subscribers[topic, default: []].insert(nextID) }
        return nextID
    }

    private func unsubscribe(_ id: UInt64) {
        guard let waiter = waiters.removeValue(forKey: id) else { return }
        for topic in waiter.topics {
            subscribers[topic]?.remove(id)
            if subscribers[topic]?.isEmpty == true { subscribers[topic] = nil }
        }
        if case .waiting(let continuation) = waiter.state {
            continuation.resume()
        }
    }

    /// Suspends until notified, the deadline, cancellation, `stop`, or (if asked) a graceful
    /// shutdown; always unsubscribes. The timer is the one child task: cancelling the waiter ends
    /// its sleep at once, which wakes the waiter (unsubscribing resumes it). A stop or a shutdown
    /// wakes it through a short task of its own, only when it happens.
    private func wait(_ id: UInt64, until deadline: ClockInstant, stop: WaitStop?, endingAtGracefulShutdown: Bool)
        async
    {
        stop?.whenStopped { Task { await self.unsubscribe(id) } }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await deadline.sleep()
                await self.unsubscribe(id)
            }
            if endingAtGracefulShutdown {
                await withGracefulShutdownHandler {
                    await suspend(id)
                } onGracefulShutdown: {
                    Task { await self.unsubscribe(id) }
                }
            } else {
                await suspend(id)
            }
            group.cancelAll()
        }
        stop?.clearAction()
        unsubscribe(id)
    }

    /// Suspends until `id` is notified or unsubscribed (at once if it was already).
    private func suspend(_ id: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            switch waiters[id]?.state {
            case .idle?: waiters[id]?.state = .waiting(continuation)
            default: continuation.resume() // already notified, timed out or cancelled
            }
        }
    }
}
