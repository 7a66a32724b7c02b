public import AllocationStore
import FoundationEssentials
import PostgresNIO
import SessionHostModel

extension PostgresInventoryStore {
    /// The advisory lock a sweep holds: every instance sweeps, one at a time.
    static let sweepLock = "sweep"

    /// Expires what the policy says, in one transaction: stale queue tickets are dropped,
    /// overdue hand-offs abandoned (host Unhealthy, session dropped, a cluster one put back at
    /// the head of its queue), and hosts not heard from since `liveSince` marked Unhealthy
    /// (keeping their sessions); drain scopes whose deadline passed are deleted. While another instance sweeps, this one skips its turn (an empty
    /// report). A hand-off whose host row is busy (being acknowledged, say) waits for the next
    /// sweep, and each one is re-checked under its host's lock, so an acknowledgement is never
    /// undone.
    public func sweep(_ policy: SweepPolicy) async throws -> SweepReport {
        try await transaction { connection in
            var report = SweepReport()
            let turn = try await self.rows(
                connection, "SELECT pg_try_advisory_xact_lock(hashtextextended(\(Self.sweepLock), 0)) AS mine")
            guard let row = turn.first, try Columns(row).bool("mine") else { return report }

            let expired = try await self.rows(
                connection,
                """
                DELETE FROM cluster_queue WHERE last_polled_at_ms < \(policy.polledSince.milliseconds) RETURNING title_id, session_id
                """)
            report.expiredTickets = try expired.map { row in
                let c = Columns(row)
                return SessionKey(titleId: try c.text("title_id"), sessionId: try c.text("session_id"))
            }.sorted { ($0.titleId, $0.sessionId) < ($1.titleId, $1.sessionId) }

            var marked = Set<String>()
            let overdue = try await self.rows(
                connection,
                """
                SELECT title_id, session_id, host_id FROM sessions
                WHERE state = 'Allocating' AND acknowledge_by_ms < \(policy.handoffsDueBefore.milliseconds)
                ORDER BY acknowledge_by_ms, title_id, session_id
                """)
            for row in overdue {
                let c = Columns(row)
                let key = SessionKey(titleId: try c.text("title_id"), sessionId: try c.text("session_id"))
                let hostId = try c.text("host_id")
                let hostRows = try await self.rows(
                    connection, "SELECT state FROM hosts WHERE host_id = \(hostId) FOR UPDATE SKIP LOCKED")
                guard let hostRow = hostRows.first else { continue }
                let hostState = try Columns(hostRow).text("state")
                let abandoned = try await self.rows(
                    connection,
                    """
                    DELETE FROM sessions
                    WHERE title_id = \(key.titleId) AND session_id = \(key.sessionId) AND host_id = \(hostId)
                        AND state = 'Allocating' AND acknowledge_by_ms < \(policy.handoffsDueBefore.milliseconds)
                    RETURNING kind, allocated_at_ms, enqueued_at_ms
                    """)
                guard let gone = abandoned.first else { continue }
                try await self.releaseUnacknowledged(connection, hostId: hostId, at: policy.now)
                if hostState != HostState.unhealthy.rawValue { marked.insert(hostId) }
                report.abandonedHandoffs.append(key)
                let g = Columns(gone)
                if try g.enumeration("kind", AllocationKind.self) == .cluster {
                    let enqueuedAt = try g.optionalDate("enqueued_at_ms") ?? g.date("allocated_at_ms")
                    try await self.requeue(
                        connection, titleId: key.titleId, sessionId: key.sessionId, enqueuedAt: enqueuedAt,
                        polledAt: policy.now)
                    report.requeuedClusters.append(key)
                }
            }

            let silent = try await self.rows(
                connection,
                """
                UPDATE hosts SET state = 'Unhealthy', standing_by_since_ms = NULL
                WHERE host_id IN (
                    SELECT host_id FROM hosts
                    WHERE last_heartbeat_ms < \(policy.liveSince.milliseconds) AND state <> 'Unhealthy'
                    FOR UPDATE SKIP LOCKED)
                RETURNING host_id
                """)
            for row in silent { marked.insert(try Columns(row).text("host_id")) }

            // Operators' drain scopes past their deadline drain no host registering from now on.
            try await self.run(connection, "DELETE FROM drain_scopes WHERE deadline_ms <= \(policy.now.milliseconds)")
            report.hostsMarkedUnhealthy = marked.sorted()
            return report
        }
    }
}
