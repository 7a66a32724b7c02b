public import AllocationStore
import PostgresNIO
import SessionHostModel

extension PostgresInventoryStore {
    /// The number of hosts per title, region and state; only groups that have hosts. Ordered
    /// bytewise, as the embedded store orders them.
    public func hostCounts() async throws -> [HostCount] {
        try await read { connection in
            try await self.rows(
                connection,
                """
                SELECT title_id, region, state, COUNT(*) AS hosts FROM hosts GROUP BY title_id, region, state
                ORDER BY title_id, region COLLATE "C", state COLLATE "C"
                """
            ).map { row in
                let c = Columns(row)
                return HostCount(
                    titleId: try c.text("title_id"), region: try c.text("region"),
                    state: try c.enumeration("state", HostState.self),
                    count: Int(try c.int("hosts")))
            }
        }
    }

    /// Per title with queued cluster requests: how many, and when the oldest queued.
    public func queueSummaries() async throws -> [QueueSummary] {
        try await read { connection in
            try await self.rows(
                connection,
                """
                SELECT title_id, COUNT(*) AS queued, MIN(enqueued_at_ms) AS oldest_ms FROM cluster_queue
                GROUP BY title_id ORDER BY title_id
                """
            ).map { row in
                let c = Columns(row)
                return QueueSummary(
                    titleId: try c.text("title_id"), length: Int(try c.int("queued")),
                    oldestEnqueuedAt: try c.date("oldest_ms"))
            }
        }
    }
}
