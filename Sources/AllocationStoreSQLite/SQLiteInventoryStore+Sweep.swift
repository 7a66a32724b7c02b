public import AllocationStore
import FoundationEssentials
import SessionHostModel
import GRDB

extension SQLiteInventoryStore {
    /// Expires what the policy says, in one transaction: stale queue tickets are dropped,
    /// overdue hand-offs abandoned (host Unhealthy, session dropped, a cluster one put back at
    /// the head of its queue), and hosts not heard from since `liveSince` marked Unhealthy
    /// (keeping their sessions). `hostsMarkedUnhealthy` lists every host this sweep moved into
    /// Unhealthy, for either reason. Drain scopes whose deadline passed are deleted.
    public func sweep(_ policy: SweepPolicy) async throws -> SweepReport {
        try await write { db in
            var report = SweepReport()

            let expired = try db.rows(
                "DELETE FROM cluster_queue WHERE last_polled_at_ms < ? RETURNING title_id, session_id",
                [policy.polledSince.storeArgument]
            )
            report.expiredTickets = try expired.map { row in
                let c = Columns(row)
                return SessionKey(titleId: try c.text("title_id"), sessionId: try c.text("session_id"))
            }.sorted { ($0.titleId, $0.sessionId) < ($1.titleId, $1.sessionId) }

            var marked = Set<String>()
            let overdue = try db.rows(
                """
                SELECT s.title_id, s.session_id, s.kind, s.host_id, s.allocated_at_ms, s.enqueued_at_ms, h.state AS host_state
                FROM sessions s JOIN hosts h ON h.host_id = s.host_id
                WHERE s.state = 'Allocating' AND s.acknowledge_by_ms < ?
                ORDER BY s.acknowledge_by_ms, s.title_id, s.session_id
                """,
                [policy.handoffsDueBefore.storeArgument]
            )
            for row in overdue {
                let c = Columns(row)
                let key = SessionKey(titleId: try c.text("title_id"), sessionId: try c.text("session_id"))
                let hostId = try c.text("host_id")
                try db.run(
                    "DELETE FROM sessions WHERE title_id = ? AND session_id = ?", [key.titleId, key.sessionId]
                )
                try Self.releaseUnacknowledged(db, hostId: hostId, at: policy.now)
                if try c.text("host_state") != HostState.unhealthy.rawValue { marked.insert(hostId) }
                report.abandonedHandoffs.append(key)
                if try c.enumeration("kind", AllocationKind.self) == .cluster {
                    let enqueuedAt = try c.optionalDate("enqueued_at_ms") ?? c.date("allocated_at_ms")
                    try Self.requeue(
                        db, titleId: key.titleId, sessionId: key.sessionId, enqueuedAt: enqueuedAt, polledAt: policy.now
                    )
                    report.requeuedClusters.append(key)
                }
            }

            let silent = try db.rows(
                """
                UPDATE hosts SET state = 'Unhealthy', standing_by_since_ms = NULL
                WHERE last_heartbeat_ms < ? AND state <> 'Unhealthy'
                RETURNING host_id
                """,
                [policy.liveSince.storeArgument]
            )
            for row in silent { marked.insert(try Columns(row).text("host_id")) }

            // Operators' drain scopes past their deadline drain no host registering from now on.
            try db.run("DELETE FROM drain_scopes WHERE deadline_ms <= ?", [policy.now.storeArgument])
            report.hostsMarkedUnhealthy = marked.sorted()
            return report
        }
    }
}
