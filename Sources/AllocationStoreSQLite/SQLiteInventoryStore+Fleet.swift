public import AllocationStore
public import FoundationEssentials
import GRDB
import SessionHostModel

extension SQLiteInventoryStore {
    /// Hosts matching `filter`, ordered by host id, the first `limit` after `after`.
    public func listHosts(_ filter: HostFilter, after: String?, limit: Int) async throws -> [HostRecord] {
        guard limit > 0 else { return [] }
        var conditions: [String] = []
        var arguments = StatementArguments()
        func match(_ condition: String, _ value: String?) {
            guard let value else { return }
            conditions.append(condition)
            arguments += [value]
        }
        match("title_id = ?", filter.titleId)
        match("region_key = ?", filter.region.map(TitleRules.locationKey))
        match("state = ?", filter.state?.rawValue)
        match("vm_id = ?", filter.vmId)
        match("host_id > ?", after)
        if let draining = filter.draining {
            conditions.append(draining ? "drain_deadline_ms IS NOT NULL" : "drain_deadline_ms IS NULL")
        }
        let sql =
            "SELECT \(HostRow.columns) FROM hosts \(Self.whereClause(conditions)) ORDER BY host_id LIMIT ?"
        let bound = arguments + [limit]
        return try await read { db in try db.rows(sql, bound).map(HostRow.record) }
    }

    /// Sessions (Allocating or Active) matching `filter`, ordered by title then session id, the
    /// first `limit` after `after`.
    public func listSessions(_ filter: SessionFilter, after: SessionCursor?, limit: Int) async throws
        -> [SessionListing]
    {
        guard limit > 0 else { return [] }
        var conditions: [String] = []
        var arguments = StatementArguments()
        func match(_ condition: String, _ value: String?) {
            guard let value else { return }
            conditions.append(condition)
            arguments += [value]
        }
        match("s.title_id = ?", filter.titleId)
        match("h.region_key = ?", filter.region.map(TitleRules.locationKey))
        match("h.vm_id = ?", filter.vmId)
        match(
            "EXISTS (SELECT 1 FROM json_each(h.players) AS p WHERE json_extract(p.value, '$.playerId') = ?)",
            filter.playerId)
        if let after {
            conditions.append("(s.title_id, s.session_id) > (?, ?)")
            arguments += [after.titleId, after.sessionId]
        }
        let sql = """
            SELECT \(SessionListing.columns) FROM sessions s JOIN hosts h ON h.host_id = s.host_id
            \(Self.whereClause(conditions)) ORDER BY s.title_id, s.session_id LIMIT ?
            """
        let bound = arguments + [limit]
        return try await read { db in try db.rows(sql, bound).map { try SessionListing(Columns($0)) } }
    }

    /// The title's session (Allocating or Active) with its host's VM and players.
    public func sessionListing(titleId: String, sessionId: String) async throws -> SessionListing? {
        try await read { db in
            try db.row(
                """
                SELECT \(SessionListing.columns) FROM sessions s JOIN hosts h ON h.host_id = s.host_id
                WHERE s.title_id = ? AND s.session_id = ?
                """,
                [titleId, sessionId]
            ).map { try SessionListing(Columns($0)) }
        }
    }

    /// Drains the hosts `scope` covers and keeps the scope until the deadline (see
    /// `InventoryStore.drain`), in one transaction; returns how many hosts it covers.
    public func drain(_ scope: DrainScope, _ drain: HostDrain, at now: Date) async throws -> Int {
        try await write { db in
            try db.run(
                """
                INSERT INTO drain_scopes (title_id, region_key, vm_id, deadline_ms, source, reason, created_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    scope.titleId, scope.regionKey, scope.vmId, drain.deadline.storeArgument, drain.source.rawValue,
                    drain.reason, now.storeArgument,
                ])
            let covered = Self.covered(by: scope)
            try db.run(
                """
                UPDATE hosts SET drain_deadline_ms = ?, drain_source = ?, drain_reason = ?, revision = MAX(revision + 1, ?)
                \(Self.whereClause(covered.conditions + ["(drain_deadline_ms IS NULL OR drain_deadline_ms > ?)"]))
                """,
                [drain.deadline.storeArgument, drain.source.rawValue, drain.reason, AssignmentRevision.floor(now)]
                    + covered.arguments + [drain.deadline.storeArgument])
            let counted = try db.row(
                "SELECT COUNT(*) AS hosts FROM hosts \(Self.whereClause(covered.conditions))", covered.arguments)
            return try counted.map { Int(try Columns($0).int("hosts")) } ?? 0
        }
    }

    /// Shuts the title's session down: it leaves the inventory, its host becomes Terminating
    /// (revision up, players cleared); nil when the title has no such session.
    public func shutdownSession(titleId: String, sessionId: String, at now: Date) async throws -> HostRecord? {
        try await write { db in
            let rows = try db.rows(
                "DELETE FROM sessions WHERE title_id = ? AND session_id = ? RETURNING host_id", [titleId, sessionId])
            guard let row = rows.first else { return nil }
            let hostId = try Columns(row).text("host_id")
            let updated = try db.rows(
                """
                UPDATE hosts SET state = 'Terminating', session_id = NULL, standing_by_since_ms = NULL, players = NULL,
                    revision = MAX(revision + 1, ?)
                WHERE host_id = ?
                RETURNING \(HostRow.columns)
                """,
                [AssignmentRevision.floor(now), hostId]
            )
            try Self.recountVM(db, ofHost: hostId)
            return try Self.onlyHost(updated, id: hostId)
        }
    }

    /// Per title and region: hosts by state, draining hosts, VMs (one statement).
    public func fleetCounts() async throws -> [RegionFleetCount] {
        try await read { db in try db.rows(RegionFleetCount.statement).map { try RegionFleetCount(Columns($0)) } }
    }

    // MARK: Helpers

    static func whereClause(_ conditions: [String]) -> String {
        conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    }

    /// The conditions on `hosts` that select the hosts `scope` covers.
    static func covered(by scope: DrainScope) -> (conditions: [String], arguments: StatementArguments) {
        var conditions: [String] = []
        var arguments = StatementArguments()
        for (column, value) in [("title_id", scope.titleId), ("region_key", scope.regionKey), ("vm_id", scope.vmId)] {
            guard let value else { continue }
            conditions.append("\(column) = ?")
            arguments += [value]
        }
        return (conditions, arguments)
    }

    /// The drain of the operator's scope that covers the host being registered, whose deadline is
    /// ahead (the earliest of several).
    static func scopeDrain(_ db: Database, hostId: String, _ registration: HostRegistration, at now: Date) throws
        -> HostDrain?
    {
        let rows = try db.rows(
            """
            SELECT deadline_ms AS drain_deadline_ms, source AS drain_source, reason AS drain_reason
            FROM drain_scopes
            WHERE deadline_ms > ? AND (title_id IS NULL OR title_id = ?) AND (region_key IS NULL OR region_key = ?)
                AND (vm_id IS NULL OR vm_id = ?)
            ORDER BY deadline_ms, id LIMIT 1
            """,
            [
                now.storeArgument, registration.titleId, TitleRules.locationKey(registration.region),
                HostRow.vmId(hostId: hostId, registration),
            ])
        return try rows.first.flatMap { try Columns($0).drain() }
    }

    /// In an upsert of `hosts`: whether the row takes the drain of the new values (it has none,
    /// or one with a later deadline).
    static let takesNewDrain =
        "(hosts.drain_deadline_ms IS NULL OR excluded.drain_deadline_ms < hosts.drain_deadline_ms)"

    /// `SET` assignments that give a host `drain` when it has none or one with a later deadline
    /// (every assignment reads the row as it was).
    static func drainAssignments(_ drain: HostDrain) -> (sql: String, arguments: StatementArguments) {
        let takes = "(drain_deadline_ms IS NULL OR drain_deadline_ms > ?)"
        let deadline = drain.deadline.storeArgument
        return (
            """
            drain_source = CASE WHEN \(takes) THEN ? ELSE drain_source END, \
            drain_reason = CASE WHEN \(takes) THEN ? ELSE drain_reason END, \
            drain_deadline_ms = CASE WHEN \(takes) THEN ? ELSE drain_deadline_ms END
            """,
            [deadline, drain.source.rawValue, deadline, drain.reason, deadline, deadline]
        )
    }
}
