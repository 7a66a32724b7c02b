import NIOCore
import Synchronization

/// An `HTTPServer`'s open connections: it closes those that stay idle too long and drains them
/// on shutdown. A connection is
/// - *new* until the head of its first request,
/// - *reading* from a request's head until its body is complete,
/// - *busy* from then until its answer is written (held polls and event streams stay busy),
/// - *idle* between requests of a keep-alive connection.
///
/// A new, reading or idle connection is closed when it stays so for `idleTimeout`: a client
/// that connects and sends nothing, sends a request slowly, or keeps an idle connection open
/// cannot hold a slot for ever. A busy one never is. Draining closes idle connections at once
/// (HTTP clients expect an idle keep-alive connection to close), never a new or reading one (its
/// client is sending a request) nor a busy one (its answer is on the way).
final class ConnectionTracker: Sendable {
    private enum Phase {
        case new, reading, busy, idle
    }

    private struct Entry {
        var channel: any Channel
        var phase = Phase.new
        /// Counts phase changes, so that a timer of an earlier phase closes nothing.
        var generation: UInt64 = 0
        /// The timer that closes the connection if it stays in its current phase.
        var expiry: Scheduled<Void>?
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        var nextID = 0
        var draining = false
    }

    private let idleTimeout: TimeAmount
    private let state = Mutex(State())
    /// Fired once draining has begun and the last connection is gone.
    private let allClosed = OneShotSignal()

    init(idleTimeout: Duration) {
        let (seconds, attoseconds) = idleTimeout.components
        self.idleTimeout = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    var count: Int { state.withLock { $0.entries.count } }

    func add(_ channel: any Channel) -> Int {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            state.entries[state.nextID] = Entry(channel: channel)
            return state.nextID
        }
        enter(.new, id)
        return id
    }

    func remove(_ id: Int) {
        let (closed, expiry) = state.withLock { state -> (Bool, Scheduled<Void>?) in
            let entry = state.entries.removeValue(forKey: id)
            return (state.draining && state.entries.isEmpty, entry?.expiry)
        }
        expiry?.cancel()
        if closed { allClosed.fire() }
    }

    /// A request's head arrived; its body follows.
    func markReading(_ id: Int) {
        enter(.reading, id)
    }

    /// The request is complete and being answered.
    func markBusy(_ id: Int) {
        enter(.busy, id)
    }

    /// Marks the connection idle, waiting for its next request; false when draining has begun,
    /// and the connection should close instead.
    func markIdle(_ id: Int) -> Bool {
        if state.withLock({ $0.draining }) { return false }
        enter(.idle, id)
        return true
    }

    /// Begins draining: closes the idle connections.
    func closeIdle() {
        let (idle, empty) = state.withLock { state -> ([any Channel], Bool) in
            state.draining = true
            return (state.entries.values.filter { $0.phase == .idle }.map(\.channel), state.entries.isEmpty)
        }
        for channel in idle { channel.close(promise: nil) }
        if empty { allClosed.fire() }
    }

    /// Waits until every connection is closed (after `closeIdle()`); false after the timeout.
    func waitUntilClosed(timeout: Duration) async -> Bool {
        let allClosed = self.allClosed
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await allClosed.wait()
                return allClosed.hasFired
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let closed = await group.next() ?? false
            group.cancelAll()
            return closed
        }
    }

    /// Moves the connection to `phase`, replacing its expiry timer: every phase but busy expires.
    /// Each connection's phases change from its own task only, one after the other.
    private func enter(_ phase: Phase, _ id: Int) {
        let moved = state.withLock { state -> (channel: any Channel, generation: UInt64, previous: Scheduled<Void>?)? in
            guard var entry = state.entries[id] else { return nil }
            let previous = entry.expiry
            entry.phase = phase
            entry.generation &+= 1
            entry.expiry = nil
            state.entries[id] = entry
            return (entry.channel, entry.generation, previous)
        }
        guard let moved else { return } // closed meanwhile
        moved.previous?.cancel()
        guard phase != .busy else { return }
        let generation = moved.generation
        let expiry = moved.channel.eventLoop.scheduleTask(in: idleTimeout) { [weak self] () -> Void in
            guard let self else { return }
            self.expire(id, generation: generation)
        }
        let kept = state.withLock { state -> Bool in
            guard state.entries[id]?.generation == generation else { return false }
            state.entries[id]?.expiry = expiry
            return true
        }
        if !kept { expiry.cancel() }
    }

    /// The timer of one phase ran out: closes the connection if it is still in that phase.
    private func expire(_ id: Int, generation: UInt64) {
        let channel = state.withLock { state -> (any Channel)? in
            guard let entry = state.entries[id], entry.generation == generation, entry.phase != .busy else {
                return nil
            }
            return entry.channel
        }
        channel?.close(promise: nil)
    }
}
