/// The hand-offs this agent process is acknowledging or has acknowledged, so that each is
/// acknowledged once: by the hand-off path (`take`), or by the reconciliation that finishes a
/// hand-off saved before a restart, never by both.
///
/// The hand-off path marks a session before it saves it, so a heartbeat that races the
/// acknowledgement (gsmsd still says Allocating) finds the mark and leaves the session alone;
/// and a session acknowledged once is not acknowledged again on a stale Allocating answer.
actor AcknowledgementLedger {
    enum Entry: Sendable, Equatable {
        case inFlight
        case acknowledged
    }

    /// The most recent sessions, oldest first. A host holds one session at a time, so a few
    /// entries cover every race.
    private var entries: [(sessionId: String, entry: Entry)] = []
    private let capacity = 8

    /// The hand-off path takes `sessionId` (a new hand-off, even of an id seen before): it will
    /// save and acknowledge it.
    func begin(_ sessionId: String) {
        entries.removeAll { $0.sessionId == sessionId }
        append(sessionId)
    }

    /// The reconciliation claims the acknowledgement of `sessionId`: `true` when it is to
    /// acknowledge it, `false` when this process is acknowledging it or has done so.
    func claim(_ sessionId: String) -> Bool {
        if entries.contains(where: { $0.sessionId == sessionId }) { return false }
        append(sessionId)
        return true
    }

    private func append(_ sessionId: String) {
        entries.append((sessionId, .inFlight))
        if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
    }

    /// Ends a claim: `acknowledged` when gsmsd accepted the acknowledgement; otherwise the
    /// session may be claimed again (gsmsd refused it, or nothing was sent).
    func finish(_ sessionId: String, acknowledged: Bool) {
        guard let index = entries.firstIndex(where: { $0.sessionId == sessionId }) else { return }
        if acknowledged {
            entries[index].entry = .acknowledged
        } else {
            entries.remove(at: index)
        }
    }

    /// What the ledger knows about `sessionId`.
    func entry(for sessionId: String) -> Entry? {
        entries.first { $0.sessionId == sessionId }?.entry
    }
}
