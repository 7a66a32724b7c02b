public import AllocationStore
public import FoundationEssentials
public import SessionHostModel
import GRDB

extension SQLiteInventoryStore {
    /// Registers or updates a host (see `InventoryStore.registerHost`). A host holding a session
    /// keeps it; registering it for another title throws `StoreError.titleMismatch`.
    public func registerHost(id: String, _ registration: HostRegistration, at now: Date) async throws -> HostRecord {
        let portMappings = try PortMappingsJSON.encode(registration.portMappings)
        return try await write { db in
            let current = try Self.currentHost(db, id: id)
            if let current, current.sessionId != nil, current.titleId != registration.titleId {
                throw StoreError.titleMismatch(id)
            }
            let state = HostReconciliation.state(
                session: current?.sessionState, agentState: registration.state, agentSessionId: nil,
                health: registration.health
            )
            let since = HostReconciliation.standingBySince(
                newState: state, oldState: current?.state, oldSince: current?.standingBySince, now: now)
            let drain = HostDrain.earliest(
                registration.drain.flatMap(HostDrain.init), try Self.scopeDrain(db, hostId: id, registration, at: now))
            let rows = try db.rows(
                """
                INSERT INTO hosts (host_id, title_id, region, region_key, host_name, port_mappings, secure_context,
                    sandbox_id, sandbox_key, cloud_game_id, cloud_game_key, game_mode_id, game_mode_key, vm_id,
                    state, session_id, last_heartbeat_ms, standing_by_since_ms, health, registered_state, revision,
                    drain_deadline_ms, drain_source, drain_reason)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (host_id) DO UPDATE SET
                    title_id = excluded.title_id, region = excluded.region, region_key = excluded.region_key,
                    host_name = excluded.host_name, port_mappings = excluded.port_mappings,
                    secure_context = excluded.secure_context, sandbox_id = excluded.sandbox_id,
                    sandbox_key = excluded.sandbox_key, cloud_game_id = excluded.cloud_game_id,
                    cloud_game_key = excluded.cloud_game_key, game_mode_id = excluded.game_mode_id,
                    game_mode_key = excluded.game_mode_key, vm_id = excluded.vm_id, state = excluded.state,
                    last_heartbeat_ms = MAX(hosts.last_heartbeat_ms, excluded.last_heartbeat_ms),
                    standing_by_since_ms = excluded.standing_by_since_ms, health = excluded.health,
                    registered_state = excluded.registered_state,
                    drain_source = CASE WHEN \(Self.takesNewDrain) THEN excluded.drain_source ELSE hosts.drain_source END,
                    drain_reason = CASE WHEN \(Self.takesNewDrain) THEN excluded.drain_reason ELSE hosts.drain_reason END,
                    drain_deadline_ms = CASE WHEN \(Self.takesNewDrain)
                        THEN excluded.drain_deadline_ms ELSE hosts.drain_deadline_ms END
                RETURNING \(HostRow.columns)
                """,
                [
                    id, registration.titleId, registration.region,
                    TitleRules.locationKey(registration.region), registration.hostName, portMappings,
                    registration.secureContext, registration.sandboxId,
                    TitleRules.matchKey(registration.sandboxId), registration.cloudGameId,
                    TitleRules.matchKey(registration.cloudGameId), registration.gameModeId,
                    TitleRules.matchKey(registration.gameModeId), HostRow.vmId(hostId: id, registration),
                    state.rawValue, now.storeArgument,
                    since.storeArgument, registration.health.rawValue, registration.state.rawValue,
                    AssignmentRevision.floor(now), drain?.deadline.storeArgument, drain?.source.rawValue,
                    drain?.reason,
                ]
            )
            let record = try Self.onlyHost(rows, id: id)
            try Self.recountVM(db, ofHost: id)
            if let previousVM = current?.vmId, previousVM != record.vmId { try Self.recountVM(db, vmId: previousVM) }
            return record
        }
    }

    /// Records a heartbeat and reconciles the host's state (see `InventoryStore.recordHeartbeat`).
    public func recordHeartbeat(id: String, _ heartbeat: HostHeartbeat, at now: Date) async throws -> HostRecord {
        try await write { db in
            guard let current = try Self.currentHost(db, id: id) else { throw StoreError.unknownHost(id) }
            if AssignmentRevision.isStale(basis: heartbeat.revision, current: current.revision) {
                // Made before the host's assignment last changed: a sign of life, not a state.
                // Its drain is taken all the same: a draining host must not be given a session.
                var assignments = "last_heartbeat_ms = MAX(last_heartbeat_ms, ?)"
                var arguments: StatementArguments = [now.storeArgument]
                if let drain = heartbeat.drain.flatMap(HostDrain.init) {
                    let taken = Self.drainAssignments(drain)
                    assignments += ", " + taken.sql
                    arguments += taken.arguments
                }
                let rows = try db.rows(
                    "UPDATE hosts SET \(assignments) WHERE host_id = ? RETURNING \(HostRow.columns)",
                    arguments + [id])
                return try Self.onlyHost(rows, id: id)
            }
            let state = HostReconciliation.state(
                session: current.sessionState, agentState: heartbeat.state, agentSessionId: heartbeat.sessionId,
                health: heartbeat.health
            )
            let since = HostReconciliation.standingBySince(
                newState: state, oldState: current.state, oldSince: current.standingBySince, now: now)
            // One statement whatever the heartbeat carries; the drain and the players only when given.
            var assignments = """
                state = ?, standing_by_since_ms = ?, health = ?, last_heartbeat_ms = MAX(last_heartbeat_ms, ?), \
                drained = ?
                """
            var arguments: StatementArguments = [
                state.rawValue, since.storeArgument, heartbeat.health.rawValue, now.storeArgument,
                heartbeat.drained ?? false,
            ]
            if let drain = heartbeat.drain.flatMap(HostDrain.init) {
                let taken = Self.drainAssignments(drain)
                assignments += ", " + taken.sql
                arguments += taken.arguments
            }
            if let players = heartbeat.players, heartbeat.sessionId != nil, heartbeat.sessionId == current.sessionId {
                // Only for the session the host holds (read in this transaction).
                assignments += ", players = ?"
                arguments += [try PlayersJSON.encode(players)]
            }
            let rows = try db.rows(
                "UPDATE hosts SET \(assignments) WHERE host_id = ? RETURNING \(HostRow.columns)", arguments + [id])
            return try Self.onlyHost(rows, id: id)
        }
    }

    /// The host, if registered.
    public func host(id: String) async throws -> HostRecord? {
        try await read { db in
            try db.rows("SELECT \(HostRow.columns) FROM hosts WHERE host_id = ?", [id]).first.map(HostRow.record)
        }
    }

    /// The host with its session, if registered, in one read.
    public func assignment(hostId: String) async throws -> HostAssignment? {
        try await read { db in
            guard
                let host = try db.row("SELECT \(HostRow.columns) FROM hosts WHERE host_id = ?", [hostId]).map(
                    HostRow.record)
            else {
                return nil
            }
            let session = try db.row("SELECT \(SessionRow.columns) FROM sessions WHERE host_id = ?", [hostId]).map {
                try SessionRow($0).allocation
            }
            return HostAssignment(host: host, session: session)
        }
    }

    /// Removes a host without a session; false when there was none, `StoreError.hostHasSession`
    /// when it holds one.
    public func deregisterHost(id: String) async throws -> Bool {
        try await write { db in
            let rows = try db.rows("SELECT session_id FROM hosts WHERE host_id = ?", [id])
            guard let row = rows.first else { return false }
            if let sessionId = try Columns(row).optionalText("session_id") {
                throw StoreError.hostHasSession(id, sessionId)
            }
            try db.run("DELETE FROM hosts WHERE host_id = ?", [id])
            try db.run("DELETE FROM host_keys WHERE host_id = ?", [id])
            return true
        }
    }

    /// Checks or binds the host's key (see `InventoryStore.checkHostKey`).
    public func checkHostKey(hostId: String, digest: String, bindIfAbsent: Bool, at now: Date) async throws
        -> HostKeyCheck
    {
        try await write { db in
            if let row = try db.row("SELECT key_digest FROM host_keys WHERE host_id = ?", [hostId]) {
                return try Columns(row).text("key_digest") == digest ? .matched : .mismatched
            }
            if !bindIfAbsent, try db.row("SELECT 1 AS registered FROM hosts WHERE host_id = ?", [hostId]) == nil {
                return .absent
            }
            try db.run(
                "INSERT INTO host_keys (host_id, key_digest, bound_at_ms) VALUES (?, ?, ?)",
                [hostId, digest, now.storeArgument])
            return .bound
        }
    }

    // MARK: Helpers

    static func currentHost(_ db: Database, id: String) throws -> CurrentHost? {
        let rows = try db.rows(
            """
            SELECT \(CurrentHost.columns)
            FROM hosts h LEFT JOIN sessions s ON s.host_id = h.host_id
            WHERE h.host_id = ?
            """,
            [id]
        )
        guard let row = rows.first else { return nil }
        return try CurrentHost(Columns(row))
    }

    static func onlyHost(_ rows: [Row], id: String) throws -> HostRecord {
        guard let row = rows.first else { throw StoreError.unknownHost(id) }
        return try HostRow.record(row)
    }
}
