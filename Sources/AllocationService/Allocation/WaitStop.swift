import Synchronization

/// Ends a change wait from outside the waiting task, without a task of its own: a held poll's
/// connection closing stops the poll's wait (`HandoffConnection.run`). Once stopped, it stays
/// stopped.
final class WaitStop: Sendable {
    private struct State {
        var stopped = false
        var action: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    init() {}

    /// Whether `stop()` was called.
    var isStopped: Bool { state.withLock { $0.stopped } }

    /// Stops: runs the action set by `whenStopped`, once.
    func stop() {
        let action = state.withLock { state -> (@Sendable () -> Void)? in
            guard !state.stopped else { return nil }
            state.stopped = true
            defer { state.action = nil }
            return state.action
        }
        action?()
    }

    /// Runs `action` when stopped, at once if stopped already; replaces an earlier action.
    func whenStopped(_ action: @escaping @Sendable () -> Void) {
        let stopped = state.withLock { state -> Bool in
            if !state.stopped { state.action = action }
            return state.stopped
        }
        if stopped { action() }
    }

    /// Drops the action set by `whenStopped` (the wait it would end is over).
    func clearAction() {
        state.withLock { $0.action = nil }
    }
}
