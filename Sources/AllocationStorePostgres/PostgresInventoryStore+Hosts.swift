public import AllocationStore
public import FoundationEssentials
public import SessionHostModel
import PostgresNIO

extension PostgresInventoryStore {
    /// Registers or updates a host (see `InventoryStore.registerHost`). A host holding a session
    /// keeps it; registering it for another title throws `StoreError.titleMismatch`.
    public func registerHost(id: String, _ registration: HostRegistration, at now: Date) async throws -> HostRecord {
        let portMappings = try PortMappingsJSON.encode(registration.portMappings)
        return try await transaction { connection in
            // Shared with other registrations, exclusive with an operator's drain: a drain scope
            // committed before this point is read below, a later one finds this host's row.
            try await self.run(
                connection, "SELECT pg_advisory_xact_lock_shared(hashtextextended(\(Self.drainLock), 0))")
            let current = try await self.lockedHost(connection, id: id)
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
                registration.drain.flatMap(HostDrain.init),
                try await self.scopeDrain(connection, hostId: id, registration, at: now))
            let rows = try await self.rows(
                connection,
                """
                INSERT INTO hosts (host_id, title_id, region, region_key, host_name, port_mappings, secure_context,
                    sandbox_id, sandbox_key, cloud_game_id, cloud_game_key, game_mode_id, game_mode_key, vm_id,
                    state, session_id, last_heartbeat_ms, standing_by_since_ms, health, registered_state, revision,
                    drain_deadline_ms, drain_source, drain_reason)
                VALUES (\(id), \(registration.titleId), \(registration.region), \(TitleRules.locationKey(registration.region)),
                    \(registration.hostName), \(portMappings), \(registration.secureContext),
                    \(registration.sandboxId), \(TitleRules.matchKey(registration.sandboxId)),
                    \(registration.cloudGameId), \(TitleRules.matchKey(registration.cloudGameId)),
                    \(registration.gameModeId), \(TitleRules.matchKey(registration.gameModeId)),
                    \(HostRow.vmId(hostId: id, registration)), \(state.rawValue), NULL, \(now.milliseconds), \(since?.milliseconds), \(registration.health.rawValue),
                    \(registration.state.rawValue), \(AssignmentRevision.floor(now)), \(drain?.deadline.milliseconds),
                    \(drain?.source.rawValue), \(drain?.reason))
                ON CONFLICT (host_id) DO UPDATE SET
                    title_id = excluded.title_id, region = excluded.region, region_key = excluded.region_key,
                    host_name = excluded.host_name, port_mappings = excluded.port_mappings,
                    secure_context = excluded.secure_context, sandbox_id = excluded.sandbox_id,
                    sandbox_key = excluded.sandbox_key, cloud_game_id = excluded.cloud_game_id,
                    cloud_game_key = excluded.cloud_game_key, game_mode_id = excluded.game_mode_id,
                    game_mode_key = excluded.game_mode_key, vm_id = excluded.vm_id, state = excluded.state,
                    last_heartbeat_ms = GREATEST(hosts.last_heartbeat_ms, excluded.last_heartbeat_ms),
                    standing_by_since_ms = excluded.standing_by_since_ms, health = excluded.health,
                    registered_state = excluded.registered_state,
                    drain_source = CASE WHEN \(unescaped: Self.takesNewDrain)
                        THEN excluded.drain_source ELSE hosts.drain_source END,
                    drain_reason = CASE WHEN \(unescaped: Self.takesNewDrain)
                        THEN excluded.drain_reason ELSE hosts.drain_reason END,
                    drain_deadline_ms = CASE WHEN \(unescaped: Self.takesNewDrain)
                        THEN excluded.drain_deadline_ms ELSE hosts.drain_deadline_ms END
                RETURNING \(unescaped: HostRow.columns)
                """)
            return try Self.onlyHost(rows, id: id)
        }
    }

    /// Records a heartbeat and reconciles the host's state (see `InventoryStore.recordHeartbeat`).
    public func recordHeartbeat(id: String, _ heartbeat: HostHeartbeat, at now: Date) async throws -> HostRecord {
        try await transaction { connection in
            guard let current = try await self.lockedHost(connection, id: id) else { throw StoreError.unknownHost(id) }
            if AssignmentRevision.isStale(basis: heartbeat.revision, current: current.revision) {
                // Made before the host's assignment last changed: a sign of life, not a state.
                // Its drain is taken all the same: a draining host must not be given a session.
                var update = StatementBuilder()
                var sql =
                    "UPDATE hosts SET last_heartbeat_ms = GREATEST(last_heartbeat_ms, \(update.bind(now.milliseconds)))"
                if let drain = heartbeat.drain.flatMap(HostDrain.init) {
                    sql += ", " + update.drainAssignments(drain)
                }
                sql += " WHERE host_id = \(update.bind(id)) RETURNING \(HostRow.columns)"
                return try Self.onlyHost(try await self.rows(connection, update.query(sql)), id: id)
            }
            let state = HostReconciliation.state(
                session: current.sessionState, agentState: heartbeat.state, agentSessionId: heartbeat.sessionId,
                health: heartbeat.health
            )
            let since = HostReconciliation.standingBySince(
                newState: state, oldState: current.state, oldSince: current.standingBySince, now: now)
            // One statement whatever the heartbeat carries; the drain and the players only when given.
            var update = StatementBuilder()
            var sql = """
                UPDATE hosts SET state = \(update.bind(state.rawValue)), \
                standing_by_since_ms = \(update.bind(since?.milliseconds)), health = \(update.bind(heartbeat.health.rawValue)), \
                last_heartbeat_ms = GREATEST(last_heartbeat_ms, \(update.bind(now.milliseconds))), \
                drained = \(update.bind(heartbeat.drained ?? false))
                """
            if let drain = heartbeat.drain.flatMap(HostDrain.init) {
                sql += ", " + update.drainAssignments(drain)
            }
            if let players = heartbeat.players, heartbeat.sessionId != nil, heartbeat.sessionId == current.sessionId {
                // Only for the session the host holds (read under the row's lock).
                sql += ", players = \(update.bind(try PlayersJSON.encode(players)))"
            }
            sql += " WHERE host_id = \(update.bind(id)) RETURNING \(HostRow.columns)"
            return try Self.onlyHost(try await self.rows(connection, update.query(sql)), id: id)
        }
    }

    /// The host, if registered.
    public func host(id: String) async throws -> HostRecord? {
        try await read { connection in
            try await self.rows(connection, "SELECT \(unescaped: HostRow.columns) FROM hosts WHERE host_id = \(id)")
                .first.map(HostRow.record)
        }
    }

    /// The host with its session, if registered, read together (one snapshot).
    public func assignment(hostId: String) async throws -> HostAssignment? {
        try await transaction { connection in
            try await self.run(connection, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            guard
                let host = try await self.rows(
                    connection, "SELECT \(unescaped: HostRow.columns) FROM hosts WHERE host_id = \(hostId)"
                ).first.map(HostRow.record)
            else {
                return nil
            }
            let session = try await self.rows(
                connection, "SELECT \(unescaped: SessionRow.columns) FROM sessions WHERE host_id = \(hostId)"
            ).first.map { try SessionRow($0).allocation }
            return HostAssignment(host: host, session: session)
        }
    }

    /// Removes a host without a session; false when there was none, `StoreError.hostHasSession`
    /// when it holds one.
    public func deregisterHost(id: String) async throws -> Bool {
        try await transaction { connection in
            let rows = try await self.rows(connection, "SELECT session_id FROM hosts WHERE host_id = \(id) FOR UPDATE")
            guard let row = rows.first else { return false }
            if let sessionId = try Columns(row).optionalText("session_id") {
                throw StoreError.hostHasSession(id, sessionId)
            }
            try await self.run(connection, "DELETE FROM hosts WHERE host_id = \(id)")
            try await self.run(connection, "DELETE FROM host_keys WHERE host_id = \(id)")
            return true
        }
    }

    /// Checks or binds the host's key (see `InventoryStore.checkHostKey`). Two instances binding
    /// the same id at once: the primary key lets one insert win; the other then compares.
    public func checkHostKey(hostId: String, digest: String, bindIfAbsent: Bool, at now: Date) async throws
        -> HostKeyCheck
    {
        try await transaction { connection in
            if let row = try await self.rows(connection, "SELECT key_digest FROM host_keys WHERE host_id = \(hostId)")
                .first
            {
                return try Columns(row).text("key_digest") == digest ? .matched : .mismatched
            }
            if !bindIfAbsent,
                try await self.rows(connection, "SELECT 1 AS registered FROM hosts WHERE host_id = \(hostId)").isEmpty
            {
                return .absent
            }
            let inserted = try await self.rows(
                connection,
                """
                INSERT INTO host_keys (host_id, key_digest, bound_at_ms) VALUES (\(hostId), \(digest), \(now.milliseconds))
                ON CONFLICT (host_id) DO NOTHING RETURNING host_id
                """)
            if !inserted.isEmpty { return .bound }
            let row = try await self.rows(connection, "SELECT key_digest FROM host_keys WHERE host_id = \(hostId)")
                .first
            return try row.map { try Columns($0).text("key_digest") == digest ? .matched : .mismatched } ?? .mismatched
        }
    }

    // MARK: Helpers

    /// Locks the host's row for the rest of the transaction, then reads it with its session (read
    /// after the lock, so a claim or hand-off committed meanwhile is seen).
    func lockedHost(_ connection: PostgresConnection, id: String) async throws -> CurrentHost? {
        let locked = try await rows(connection, "SELECT host_id FROM hosts WHERE host_id = \(id) FOR UPDATE")
        guard !locked.isEmpty else { return nil }
        let rows = try await rows(
            connection,
            """
            SELECT \(unescaped: CurrentHost.columns)
            FROM hosts h LEFT JOIN sessions s ON s.host_id = h.host_id
            WHERE h.host_id = \(id)
            """)
        guard let row = rows.first else { return nil }
        return try CurrentHost(Columns(row))
    }

    static func onlyHost(_ rows: [PostgresRow], id: String) throws -> HostRecord {
        guard let row = rows.first else { throw StoreError.unknownHost(id) }
        return try HostRow.record(row)
    }
}
