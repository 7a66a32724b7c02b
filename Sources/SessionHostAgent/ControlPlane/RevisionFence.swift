/// The newest assignment revision this agent has seen from gsmsd (`HostStatus.revision`,
/// `Handoff.revision`). An answer older than that was computed before something the agent
/// already knows (a heartbeat answer from before a hand-off, read after it): it must not
/// override the newer one, so the agent ignores it.
actor RevisionFence {
    private(set) var newest: Int64?

    /// Records `revision` and says whether its answer is current (not older than the newest
    /// seen). An answer without a revision (an older gsmsd) is always current.
    func admit(_ revision: Int64?) -> Bool {
        guard let revision else { return true }
        if let newest, revision < newest { return false }
        newest = revision
        return true
    }
}
