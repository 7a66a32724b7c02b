public import FoundationEssentials
public import SessionHostModel

/// How the inventory's view of a host and its agent's report combine (registration and
/// heartbeat), the same for every store. Assignments are the inventory's: a host holding a
/// session keeps it.
public enum HostReconciliation {
    /// The host's new state.
    ///
    /// - With a session: Allocating or Active as the session is, Unhealthy while the game is.
    /// - Without: Unhealthy when the game or agent says so; Terminating when the agent claims a
    ///   session the inventory does not know (it must drop it); otherwise the agent's state.
    public static func state(
        session: Allocation.State?, agentState: HostState, agentSessionId: String?, health: GameHealth
    ) -> HostState {
        if let session {
            if health == .unhealthy { return .unhealthy }
            return session == .active ? .active : .allocating
        }
        if health == .unhealthy || agentState == .unhealthy { return .unhealthy }
        if agentSessionId != nil || agentState == .allocating || agentState == .active { return .terminating }
        return agentState
    }

    /// When the host became StandingBy: kept while it stays StandingBy, now when it enters it,
    /// nil in any other state.
    public static func standingBySince(newState: HostState, oldState: HostState?, oldSince: Date?, now: Date) -> Date? {
        guard newState == .standingBy else { return nil }
        if oldState == .standingBy, let oldSince { return oldSince }
        return now
    }
}
