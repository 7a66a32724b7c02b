public import AllocationStore
import GRDB
import SessionHostModel

extension SQLiteInventoryStore {
    /// The number of hosts per title, region and state; only groups that have hosts.
    public func hostCounts() async throws -> [HostCount] {
        try await read { db in
            try db.rows(
                "SELECT title_id, region, state, COUNT(*) AS hosts FROM hosts GROUP BY title_id, region, state ORDER BY 1, 2, 3"
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
        try await read { db in
            try db.rows(
                "SELECT title_id, COUNT(*) AS queued, MIN(enqueued_at_ms) AS oldest_ms FROM cluster_queue GROUP BY title_id ORDER BY 1"
            ).map { row in
                let c = Columns(row)
                return QueueSummary(
                    titleId: try c.text("title_id"), length: Int(try c.int("queued")),
                    oldestEnqueuedAt: try c.date("oldest_ms"))
            }
        }
    }
}
