import NIOCore
import Synchronization

/// The agent server's open connections, for draining them on shutdown. A connection is *new*
/// until its first request, *busy* from a request's head until its answer is written, and *idle*
/// between requests of a keep-alive connection. Draining closes idle connections at once (HTTP
/// clients expect an idle keep-alive connection to close), never a new one (its client has
/// connected and is sending its first request) nor a busy one (its answer is on the way).
final class ConnectionTracker: Sendable {
    private struct Entry {
        var channel: any Channel
        var idle = false
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        var nextID = 0
        var draining = false
    }

    private let state = Mutex(State())
    /// Fired once draining has begun and the last connection is gone.
    private let allClosed = OneShotSignal()

    var count: Int { state.withLock { $0.entries.count } }

    func add(_ channel: any Channel) -> Int {
        state.withLock { state in
            defer { state.nextID += 1 }
            state.entries[state.nextID] = Entry(channel: channel)
            return state.nextID
        }
    }

    func remove(_ id: Int) {
        let closed = state.withLock { state -> Bool in
            state.entries[id] = nil
            return state.draining && state.entries.isEmpty
        }
        if closed { allClosed.fire() }
    }

    func markBusy(_ id: Int) {
        state.withLock { $0.entries[id]?.idle = false }
    }

    /// Marks the connection idle, waiting for its next request; false when draining has begun,
    /// and the connection should close instead.
    func markIdle(_ id: Int) -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.entries[id]?.idle = true
            return true
        }
    }

    /// Begins draining: closes the idle connections.
    func closeIdle() {
        let (idle, empty) = state.withLock { state -> ([any Channel], Bool) in
            state.draining = true
            return (state.entries.values.filter(\.idle).map(\.channel), state.entries.isEmpty)
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
}
