import Synchronization

/// Every allocation the title made in one scenario and what it was answered, and every broken
/// invariant found along the way (a "violation": a 200 that is not true, a session a game saw
/// that the title was not given on that host, a host with two sessions, a session on two hosts).
final class AllocationLedger: Sendable {
    /// Why the title allocated.
    enum Purpose: String, Sendable {
        /// Load during a fault.
        case load
        /// Setting a scenario up (a session to hold through a partition).
        case setup
        /// After healing: is the host allocatable again?
        case recovery
    }

    struct Attempt: Sendable {
        var sessionId: String
        var locations: [String]
        var purpose: Purpose
        /// nil when no answer came (the title's own link has no faults: none expected).
        var status: Int?
        var hostId: String?
        var failure: String?
        var answeredAt: ContinuousClock.Instant
    }

    private struct State {
        var attempts: [String: Attempt] = [:]
        var order: [String] = []
        var violations: [String] = []
        /// The last session each host was given a 200 for.
        var lastGrant: [String: String] = [:]
    }

    private let state = Mutex(State())

    func record(_ attempt: Attempt) {
        state.withLock { state in
            if state.attempts[attempt.sessionId] == nil { state.order.append(attempt.sessionId) }
            state.attempts[attempt.sessionId] = attempt
        }
    }

    func addViolation(_ text: String) {
        state.withLock { $0.violations.append(text) }
    }

    /// Records that `hostId` was given `sessionId`; returns the session it was given before.
    func grant(_ sessionId: String, to hostId: String) -> String? {
        state.withLock { state in
            defer { state.lastGrant[hostId] = sessionId }
            return state.lastGrant[hostId]
        }
    }

    func attempt(_ sessionId: String) -> Attempt? { state.withLock { $0.attempts[sessionId] } }

    /// All attempts, in the order they were made.
    var attempts: [Attempt] { state.withLock { state in state.order.compactMap { state.attempts[$0] } } }

    var violations: [String] { state.withLock { $0.violations } }

    func count(_ purpose: Purpose? = nil) -> Int {
        state.withLock { state in state.attempts.values.filter { purpose == nil || $0.purpose == purpose }.count }
    }
}
