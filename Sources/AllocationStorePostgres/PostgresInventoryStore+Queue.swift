public import AllocationStore
public import FoundationEssentials
import PostgresNIO

extension PostgresInventoryStore {
    /// Queues a cluster request at the tail of its title's queue or, when it is queued already,
    /// records the poll; returns the ticket with its position.
    public func enqueueCluster(titleId: String, sessionId: String, at now: Date) async throws -> ClusterTicket {
        try await transaction { connection in
            try await self.run(
                connection,
                """
                INSERT INTO cluster_queue (title_id, session_id, enqueued_at_ms, last_polled_at_ms)
                VALUES (\(titleId), \(sessionId), \(now.milliseconds), \(now.milliseconds))
                ON CONFLICT (title_id, session_id) DO UPDATE SET
                    last_polled_at_ms = GREATEST(cluster_queue.last_polled_at_ms, excluded.last_polled_at_ms)
                """)
            guard let ticket = try await self.ticket(connection, titleId: titleId, sessionId: sessionId) else {
                throw StoreError.unavailable("the queued cluster request \(titleId)/\(sessionId) vanished")
            }
            return ticket
        }
    }

    /// The queued ticket, if any; with `polledAt`, records that its caller polled.
    public func ticket(titleId: String, sessionId: String, polledAt: Date?) async throws -> ClusterTicket? {
        guard let polledAt else {
            return try await read { connection in
                try await self.ticket(connection, titleId: titleId, sessionId: sessionId)
            }
        }
        return try await transaction { connection in
            try await self.run(
                connection,
                """
                UPDATE cluster_queue SET last_polled_at_ms = GREATEST(last_polled_at_ms, \(polledAt.milliseconds))
                WHERE title_id = \(titleId) AND session_id = \(sessionId)
                """)
            return try await self.ticket(connection, titleId: titleId, sessionId: sessionId)
        }
    }

    /// Takes the head of the title's queue and a live StandingBy host that declared no sandbox,
    /// cloud game or game mode (any region), in one transaction; nil when either is missing.
    /// Instances serve one title's queue one at a time (its advisory lock), first in, first out.
    /// The host is chosen as `strategy` says.
    public func claimHostForQueue(
        titleId: String, now: Date, liveSince: Date, acknowledgeBy: Date, excluding unreachableHostIds: Set<String>,
        strategy: AllocationStrategy
    ) async throws -> Allocation? {
        try await transaction { connection in
            try await self.lock(connection, Self.queueLock(titleId: titleId))
            // A ticket whose session exists already (claimed directly meanwhile) is stale: drop it.
            for _ in 0..<100 {
                let heads = try await self.rows(
                    connection,
                    """
                    SELECT q.seq, q.session_id, q.enqueued_at_ms,
                        EXISTS (SELECT 1 FROM sessions s WHERE s.title_id = q.title_id AND s.session_id = q.session_id) AS taken
                    FROM cluster_queue q WHERE q.title_id = \(titleId)
                    ORDER BY q.enqueued_at_ms, q.seq LIMIT 1
                    """)
                guard let head = heads.first else { return nil }
                let c = Columns(head)
                let seq = try c.int("seq")
                let sessionId = try c.text("session_id")
                if try c.bool("taken") {
                    try await self.run(connection, "DELETE FROM cluster_queue WHERE seq = \(seq)")
                    continue
                }
                // The session id's own lock, as a direct claim of it takes.
                try await self.lock(connection, Self.sessionLock(titleId: titleId, sessionId: sessionId))
                if try await self.session(connection, titleId: titleId, sessionId: sessionId) != nil {
                    try await self.run(connection, "DELETE FROM cluster_queue WHERE seq = \(seq)")
                    continue
                }
                guard
                    let host = try await self.takeCandidate(
                        connection, titleId: titleId, sessionId: sessionId, criteria: HostCriteria(),
                        liveSince: liveSince,
                        excluding: unreachableHostIds, strategy: strategy, at: now)
                else { return nil }
                try await self.run(connection, "DELETE FROM cluster_queue WHERE seq = \(seq)")
                let allocation = Allocation(
                    titleId: titleId, sessionId: sessionId, kind: .cluster, state: .allocating, sessionCookie: nil,
                    allocatedAt: now.storeRounded, acknowledgeBy: acknowledgeBy.storeRounded,
                    sessionHostId: host.hostId,
                    hostName: host.hostName, region: host.region, portMappings: host.portMappings,
                    secureContext: host.secureContext
                )
                try await self.insertSession(
                    connection, allocation, portMappingsJSON: host.portMappingsJSON,
                    enqueuedAt: try c.date("enqueued_at_ms"))
                return allocation
            }
            return nil
        }
    }

    /// Removes a queued ticket whose caller gave up waiting; false when there was none.
    public func withdrawTicket(titleId: String, sessionId: String) async throws -> Bool {
        try await read { connection in
            try await !self.rows(
                connection,
                """
                DELETE FROM cluster_queue WHERE title_id = \(titleId) AND session_id = \(sessionId) RETURNING seq
                """
            ).isEmpty
        }
    }

    /// Number of queued cluster requests of the title.
    public func queueLength(titleId: String) async throws -> Int {
        try await read { connection in
            let rows = try await self.rows(
                connection, "SELECT COUNT(*) AS queued FROM cluster_queue WHERE title_id = \(titleId)")
            return try rows.first.map { Int(try Columns($0).int("queued")) } ?? 0
        }
    }

    /// Titles with at least one queued cluster request, in order.
    public func titlesWithQueuedClusters() async throws -> [String] {
        try await read { connection in
            try await self.rows(connection, "SELECT DISTINCT title_id FROM cluster_queue ORDER BY title_id")
                .map { try Columns($0).text("title_id") }
        }
    }

    // MARK: Helpers

    /// The ticket with its 1-based place: one more than the title's tickets ahead of it.
    func ticket(_ connection: PostgresConnection, titleId: String, sessionId: String) async throws -> ClusterTicket? {
        let rows = try await rows(
            connection,
            """
            SELECT q.enqueued_at_ms, q.last_polled_at_ms,
                1 + (SELECT COUNT(*) FROM cluster_queue o
                     WHERE o.title_id = q.title_id AND (o.enqueued_at_ms, o.seq) < (q.enqueued_at_ms, q.seq)) AS position
            FROM cluster_queue q WHERE q.title_id = \(titleId) AND q.session_id = \(sessionId)
            """)
        guard let row = rows.first else { return nil }
        let c = Columns(row)
        return ClusterTicket(
            titleId: titleId, sessionId: sessionId, enqueuedAt: try c.date("enqueued_at_ms"),
            lastPolledAt: try c.date("last_polled_at_ms"), position: Int(try c.int("position"))
        )
    }
}
