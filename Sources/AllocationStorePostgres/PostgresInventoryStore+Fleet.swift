public import AllocationStore
public import FoundationEssentials
import PostgresNIO
import SessionHostModel

extension PostgresInventoryStore {
    /// The advisory lock an operator's drain holds exclusively and a registration shared, so that
    /// a host registering while a scope is added is either drained by the scope's update or
    /// reads the scope.
    static let drainLock = "drains"

    /// Hosts matching `filter`, ordered by host id, the first `limit` after `after`.
    public func listHosts(_ filter: HostFilter, after: String?, limit: Int) async throws -> [HostRecord] {
        guard limit > 0 else { return [] }
        var statement = StatementBuilder()
        var conditions: [String] = []
        func match(_ column: String, _ comparison: String, _ value: String?) {
            guard let value else { return }
            conditions.append("\(column) \(comparison) \(statement.bind(value))")
        }
        match("title_id", "=", filter.titleId)
        match("region_key", "=", filter.region.map(TitleRules.locationKey))
        match("state", "=", filter.state?.rawValue)
        match("vm_id", "=", filter.vmId)
        match("host_id", ">", after)
        if let draining = filter.draining {
            conditions.append(draining ? "drain_deadline_ms IS NOT NULL" : "drain_deadline_ms IS NULL")
        }
        let sql = """
            SELECT \(HostRow.columns) FROM hosts \(Self.whereClause(conditions))
            ORDER BY host_id LIMIT \(statement.bind(Int64(limit)))
            """
        let query = statement.query(sql)
        return try await read { connection in try await self.rows(connection, query).map(HostRow.record) }
    }

    /// Sessions (Allocating or Active) matching `filter`, ordered by title then session id
    /// (bytewise), the first `limit` after `after`.
    public func listSessions(_ filter: SessionFilter, after: SessionCursor?, limit: Int) async throws
        -> [SessionListing]
    {
        guard limit > 0 else { return [] }
        var statement = StatementBuilder()
        var conditions: [String] = []
        if let titleId = filter.titleId { conditions.append("s.title_id = \(statement.bind(titleId))") }
        if let region = filter.region {
            conditions.append("h.region_key = \(statement.bind(TitleRules.locationKey(region)))")
        }
        if let vmId = filter.vmId { conditions.append("h.vm_id = \(statement.bind(vmId))") }
        if let playerId = filter.playerId {
            conditions.append(
                """
                EXISTS (SELECT 1 FROM jsonb_array_elements(h.players::jsonb) AS p
                    WHERE p ->> 'playerId' = \(statement.bind(playerId)))
                """)
        }
        if let after {
            conditions.append(
                "(s.title_id, s.session_id) > (\(statement.bind(after.titleId)), \(statement.bind(after.sessionId)))")
        }
        let sql = """
            SELECT \(SessionListing.columns) FROM sessions s JOIN hosts h ON h.host_id = s.host_id
            \(Self.whereClause(conditions)) ORDER BY s.title_id, s.session_id LIMIT \(statement.bind(Int64(limit)))
            """
        let query = statement.query(sql)
        return try await read { connection in
            try await self.rows(connection, query).map { try SessionListing(Columns($0)) }
        }
    }

    /// The title's session (Allocating or Active) with its host's VM and players.
    public func sessionListing(titleId: String, sessionId: String) async throws -> SessionListing? {
        try await read { connection in
            try await self.rows(
                connection,
                """
                SELECT \(unescaped: SessionListing.columns) FROM sessions s JOIN hosts h ON h.host_id = s.host_id
                WHERE s.title_id = \(titleId) AND s.session_id = \(sessionId)
                """
            ).first.map { try SessionListing(Columns($0)) }
        }
    }

    /// Drains the hosts `scope` covers and keeps the scope until the deadline (see
    /// `InventoryStore.drain`), in one transaction; returns how many hosts it covers.
    public func drain(_ scope: DrainScope, _ drain: HostDrain, at now: Date) async throws -> Int {
        try await transaction { connection in
            try await self.run(connection, "SELECT pg_advisory_xact_lock(hashtextextended(\(Self.drainLock), 0))")
            try await self.run(
                connection,
                """
                INSERT INTO drain_scopes (title_id, region_key, vm_id, deadline_ms, source, reason, created_ms)
                VALUES (\(scope.titleId), \(scope.regionKey), \(scope.vmId), \(drain.deadline.milliseconds),
                    \(drain.source.rawValue), \(drain.reason), \(now.milliseconds))
                """)
            var update = StatementBuilder()
            let assignments = """
                drain_deadline_ms = \(update.bind(drain.deadline.milliseconds)), \
                drain_source = \(update.bind(drain.source.rawValue)), drain_reason = \(update.bind(drain.reason)), \
                revision = GREATEST(revision + 1, \(update.bind(AssignmentRevision.floor(now))))
                """
            let later = "(drain_deadline_ms IS NULL OR drain_deadline_ms > \(update.bind(drain.deadline.milliseconds)))"
            let covered = Self.covered(by: scope, &update)
            try await self.run(
                connection,
                update.query("UPDATE hosts SET \(assignments) \(Self.whereClause(covered + [later]))"))
            var count = StatementBuilder()
            let counted = Self.covered(by: scope, &count)
            let rows = try await self.rows(
                connection, count.query("SELECT COUNT(*) AS hosts FROM hosts \(Self.whereClause(counted))"))
            return try rows.first.map { Int(try Columns($0).int("hosts")) } ?? 0
        }
    }

    /// Shuts the title's session down: it leaves the inventory, its host becomes Terminating
    /// (revision up, players cleared); nil when the title has no such session. Holds the session
    /// id's lock (as claims and reassignments do), then its host's row, as `endSession` does.
    public func shutdownSession(titleId: String, sessionId: String, at now: Date) async throws -> HostRecord? {
        try await transaction { connection in
            try await self.lock(connection, Self.sessionLock(titleId: titleId, sessionId: sessionId))
            guard let session = try await self.session(connection, titleId: titleId, sessionId: sessionId) else {
                return nil
            }
            let hostId = session.allocation.sessionHostId
            try await self.run(connection, "SELECT 1 FROM hosts WHERE host_id = \(hostId) FOR UPDATE")
            // Read again under the host's lock: an acknowledgement, an end or a sweep may have
            // committed meanwhile (only a reassignment moves a session, under the session's lock).
            let removed = try await self.rows(
                connection,
                """
                DELETE FROM sessions WHERE title_id = \(titleId) AND session_id = \(sessionId) AND host_id = \(hostId)
                RETURNING host_id
                """)
            guard !removed.isEmpty else { return nil }
            let updated = try await self.rows(
                connection,
                """
                UPDATE hosts SET state = 'Terminating', session_id = NULL, standing_by_since_ms = NULL, players = NULL,
                    revision = GREATEST(revision + 1, \(AssignmentRevision.floor(now)))
                WHERE host_id = \(hostId)
                RETURNING \(unescaped: HostRow.columns)
                """)
            return try Self.onlyHost(updated, id: hostId)
        }
    }

    /// Per title and region: hosts by state, draining hosts, VMs (one statement).
    public func fleetCounts() async throws -> [RegionFleetCount] {
        try await read { connection in
            try await self.rows(connection, PostgresQuery(unsafeSQL: RegionFleetCount.statement)).map {
                try RegionFleetCount(Columns($0))
            }
        }
    }

    // MARK: Helpers

    static func whereClause(_ conditions: [String]) -> String {
        conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    }

    /// The conditions on `hosts` that select the hosts `scope` covers, bound in `statement`.
    static func covered(by scope: DrainScope, _ statement: inout StatementBuilder) -> [String] {
        var conditions: [String] = []
        for (column, value) in [("title_id", scope.titleId), ("region_key", scope.regionKey), ("vm_id", scope.vmId)] {
            guard let value else { continue }
            conditions.append("\(column) = \(statement.bind(value))")
        }
        return conditions
    }

    /// The drain of the operator's scope that covers the host being registered, whose deadline is
    /// ahead (the earliest of several).
    func scopeDrain(_ connection: PostgresConnection, hostId: String, _ registration: HostRegistration, at now: Date)
        async throws -> HostDrain?
    {
        let rows = try await rows(
            connection,
            """
            SELECT deadline_ms AS drain_deadline_ms, source AS drain_source, reason AS drain_reason
            FROM drain_scopes
            WHERE deadline_ms > \(now.milliseconds) AND (title_id IS NULL OR title_id = \(registration.titleId))
                AND (region_key IS NULL OR region_key = \(TitleRules.locationKey(registration.region)))
                AND (vm_id IS NULL OR vm_id = \(HostRow.vmId(hostId: hostId, registration)))
            ORDER BY deadline_ms, id LIMIT 1
            """)
        return try rows.first.flatMap { try Columns($0).drain() }
    }

    /// In an upsert of `hosts`: whether the row takes the drain of the new values (it has none,
    /// or one with a later deadline).
    static let takesNewDrain =
        "(hosts.drain_deadline_ms IS NULL OR excluded.drain_deadline_ms < hosts.drain_deadline_ms)"
}

/// A statement put together piece by piece: each bound value's placeholder (`$n`) is returned
/// to be written into the SQL.
struct StatementBuilder {
    private var binds = PostgresBindings()

    /// Binds `value` and returns its placeholder.
    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value?) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    /// `sql`, whose placeholders this builder bound.
    func query(_ sql: String) -> PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }

    /// `SET` assignments that give a host `drain` when it has none or one with a later deadline
    /// (every assignment reads the row as it was).
    mutating func drainAssignments(_ drain: HostDrain) -> String {
        let deadline = bind(drain.deadline.milliseconds)
        let takes = "(drain_deadline_ms IS NULL OR drain_deadline_ms > \(deadline))"
        return """
            drain_source = CASE WHEN \(takes) THEN \(bind(drain.source.rawValue)) ELSE drain_source END, \
            drain_reason = CASE WHEN \(takes) THEN \(bind(drain.reason)) ELSE drain_reason END, \
            drain_deadline_ms = CASE WHEN \(takes) THEN \(deadline) ELSE drain_deadline_ms END
            """
    }
}
