public import AllocationStore
public import FoundationEssentials
import PostgresNIO
import SessionHostModel

extension PostgresInventoryStore {
    /// `.active` or `.inFlight` for a session the title already has; otherwise claims a live
    /// matching host as `claim.strategy` says (`.claimed`) or answers `.noHost`.
    public func claimHost(_ claim: AllocationClaim) async throws -> ClaimOutcome {
        try await transaction { connection in
            try await self.lock(connection, Self.sessionLock(titleId: claim.titleId, sessionId: claim.sessionId))
            if let existing = try await self.session(connection, titleId: claim.titleId, sessionId: claim.sessionId) {
                return existing.allocation.state == .active
                    ? .active(existing.allocation) : .inFlight(existing.allocation)
            }
            return try await self.claimFresh(connection, claim)
        }
    }

    /// The agent acknowledged: Allocating becomes Active; idempotent when already Active on that
    /// host; nil when the session is not on the host. The acknowledgement counts as a heartbeat.
    public func confirmHandoff(hostId: String, sessionId: String, at now: Date) async throws -> HostAssignment? {
        try await transaction { connection in
            guard try await !self.rows(connection, "SELECT 1 FROM hosts WHERE host_id = \(hostId) FOR UPDATE").isEmpty
            else {
                return nil
            }
            let rows = try await self.rows(
                connection,
                """
                SELECT \(unescaped: SessionRow.columns) FROM sessions WHERE host_id = \(hostId) AND session_id = \(sessionId)
                """)
            guard let row = rows.first else { return nil }
            var session = try SessionRow(row).allocation
            let host: [PostgresRow]
            if session.state == .allocating {
                try await self.run(
                    connection,
                    """
                    UPDATE sessions SET state = 'Active' WHERE title_id = \(session.titleId) AND session_id = \(sessionId)
                    """)
                session.state = .active
                host = try await self.rows(
                    connection,
                    """
                    UPDATE hosts SET state = CASE health WHEN 'Unhealthy' THEN 'Unhealthy' ELSE 'Active' END,
                        standing_by_since_ms = NULL, last_heartbeat_ms = GREATEST(last_heartbeat_ms, \(now.milliseconds)),
                        revision = GREATEST(revision + 1, \(AssignmentRevision.floor(now)))
                    WHERE host_id = \(hostId)
                    RETURNING \(unescaped: HostRow.columns)
                    """)
            } else {
                host = try await self.rows(
                    connection,
                    """
                    UPDATE hosts SET last_heartbeat_ms = GREATEST(last_heartbeat_ms, \(now.milliseconds)) WHERE host_id = \(hostId)
                    RETURNING \(unescaped: HostRow.columns)
                    """)
            }
            return HostAssignment(host: try Self.onlyHost(host, id: hostId), session: session)
        }
    }

    /// Moves a hand-off the failed host did not acknowledge (see `InventoryStore.reassignHandoff`):
    /// the failed host becomes Unhealthy; the session goes to the next candidate or, with none,
    /// is dropped (a cluster request back at the head of its queue, with its first queue time).
    public func reassignHandoff(_ claim: AllocationClaim, failedHostId: String) async throws -> ClaimOutcome {
        try await transaction { connection in
            try await self.lock(connection, Self.sessionLock(titleId: claim.titleId, sessionId: claim.sessionId))
            // The failed host's row first, so that its acknowledgement cannot land in between.
            try await self.run(connection, "SELECT 1 FROM hosts WHERE host_id = \(failedHostId) FOR UPDATE")
            guard let current = try await self.session(connection, titleId: claim.titleId, sessionId: claim.sessionId)
            else {
                return try await self.claimFresh(connection, claim)
            }
            let allocation = current.allocation
            if allocation.state == .active { return .active(allocation) }
            guard allocation.sessionHostId == failedHostId else { return .inFlight(allocation) }

            try await self.releaseUnacknowledged(connection, hostId: failedHostId, at: claim.now)
            if let host = try await self.takeCandidate(connection, claim) {
                try await self.run(
                    connection,
                    """
                    UPDATE sessions SET host_id = \(host.hostId), host_name = \(host.hostName), region = \(host.region),
                        port_mappings = \(host.portMappingsJSON), secure_context = \(host.secureContext),
                        allocated_at_ms = \(claim.now.milliseconds), acknowledge_by_ms = \(claim.acknowledgeBy.milliseconds)
                    WHERE title_id = \(claim.titleId) AND session_id = \(claim.sessionId)
                    """)
                return .claimed(host.takingOver(allocation, for: claim))
            }
            try await self.run(
                connection, "DELETE FROM sessions WHERE title_id = \(claim.titleId) AND session_id = \(claim.sessionId)"
            )
            if allocation.kind == .cluster {
                try await self.requeue(
                    connection, titleId: claim.titleId, sessionId: claim.sessionId,
                    enqueuedAt: current.enqueuedAt ?? allocation.allocatedAt, polledAt: claim.now)
            }
            return .noHost
        }
    }

    /// The title's allocation with this session id, Allocating or Active.
    public func allocation(titleId: String, sessionId: String) async throws -> Allocation? {
        try await read { connection in
            try await self.session(connection, titleId: titleId, sessionId: sessionId)?.allocation
        }
    }

    /// The session waiting for this host's acknowledgement, if any.
    public func pendingHandoff(hostId: String) async throws -> PendingHandoff? {
        try await read { connection in
            try await self.rows(
                connection,
                """
                SELECT \(unescaped: PendingHandoff.columns) FROM sessions WHERE host_id = \(hostId) AND state = 'Allocating'
                """
            ).first.map { try PendingHandoff(Columns($0)) }
        }
    }

    /// The game finished: the session is removed and the host is Terminating. Throws
    /// `StoreError.unknownHost`, or `sessionMismatch` when the host does not hold that session.
    public func endSession(hostId: String, sessionId: String, at now: Date) async throws -> HostRecord {
        try await transaction { connection in
            let rows = try await self.rows(
                connection, "SELECT session_id FROM hosts WHERE host_id = \(hostId) FOR UPDATE")
            guard let row = rows.first else { throw StoreError.unknownHost(hostId) }
            guard try Columns(row).optionalText("session_id") == sessionId else {
                throw StoreError.sessionMismatch(hostId, sessionId)
            }
            try await self.run(connection, "DELETE FROM sessions WHERE host_id = \(hostId)")
            let updated = try await self.rows(
                connection,
                """
                UPDATE hosts SET state = 'Terminating', session_id = NULL, standing_by_since_ms = NULL, players = NULL,
                    last_heartbeat_ms = GREATEST(last_heartbeat_ms, \(now.milliseconds)),
                    revision = GREATEST(revision + 1, \(AssignmentRevision.floor(now)))
                WHERE host_id = \(hostId)
                RETURNING \(unescaped: HostRow.columns)
                """)
            return try Self.onlyHost(updated, id: hostId)
        }
    }

    // MARK: Helpers

    func session(_ connection: PostgresConnection, titleId: String, sessionId: String) async throws -> SessionRow? {
        try await rows(
            connection,
            """
            SELECT \(unescaped: SessionRow.columns) FROM sessions WHERE title_id = \(titleId) AND session_id = \(sessionId)
            """
        ).first.map(SessionRow.init)
    }

    /// Marks the best candidate host Allocating with the session and returns its description;
    /// nil when no host matches. Locations are tried strictly in order. Hosts whose rows other
    /// transactions hold are skipped; when that leaves none, the claim waits for those rows once.
    func takeCandidate(_ connection: PostgresConnection, _ claim: AllocationClaim) async throws -> ClaimedHost? {
        try await takeCandidate(
            connection, titleId: claim.titleId, sessionId: claim.sessionId, criteria: claim.criteria,
            liveSince: claim.liveSince,
            excluding: claim.unreachableHostIds, strategy: claim.strategy, at: claim.now)
    }

    /// A host that did not acknowledge its hand-off in time loses it (and its players) and
    /// becomes Unhealthy.
    func releaseUnacknowledged(_ connection: PostgresConnection, hostId: String, at now: Date) async throws {
        try await run(
            connection,
            """
            UPDATE hosts SET state = 'Unhealthy', session_id = NULL, standing_by_since_ms = NULL, players = NULL,
                revision = GREATEST(revision + 1, \(AssignmentRevision.floor(now)))
            WHERE host_id = \(hostId)
            """)
    }

    /// Marks the best candidate host Allocating (see above), chosen inside one location as
    /// `strategy` says; hosts in `excluding` are passed over.
    func takeCandidate(
        _ connection: PostgresConnection, titleId: String, sessionId: String, criteria: HostCriteria, liveSince: Date,
        excluding: Set<String>, strategy: AllocationStrategy, at now: Date
    ) async throws -> ClaimedHost? {
        var regions: [String?] = []
        if criteria.locations.isEmpty {
            regions = [nil]
        } else {
            for location in criteria.locations {
                let key = TitleRules.locationKey(location)
                if !key.isEmpty, !regions.contains(key) { regions.append(key) }
            }
        }
        for waitForBusyRows in [false, true] {
            for region in regions {
                let query = CandidateQuery(
                    titleId: titleId, sessionId: sessionId, criteria: criteria, liveSince: liveSince, regionKey: region,
                    excluding: excluding, strategy: strategy, now: now, skipLocked: !waitForBusyRows)
                if let row = try await rows(connection, query.statement).first {
                    return try ClaimedHost(row)
                }
            }
        }
        return nil
    }

    /// Claims a host for a session the title does not have yet.
    func claimFresh(_ connection: PostgresConnection, _ claim: AllocationClaim) async throws -> ClaimOutcome {
        guard let host = try await takeCandidate(connection, claim) else {
            return .noHost
        }
        let allocation = Allocation(
            titleId: claim.titleId, sessionId: claim.sessionId, kind: claim.kind, state: .allocating,
            sessionCookie: claim.sessionCookie, allocatedAt: claim.now.storeRounded,
            acknowledgeBy: claim.acknowledgeBy.storeRounded,
            sessionHostId: host.hostId, hostName: host.hostName, region: host.region, portMappings: host.portMappings,
            secureContext: host.secureContext
        )
        // A cluster request remembers when it was first made, to keep its place if it is put back.
        try await insertSession(
            connection, allocation, portMappingsJSON: host.portMappingsJSON,
            enqueuedAt: claim.kind == .cluster ? claim.now : nil)
        if claim.kind == .cluster {
            try await run(
                connection,
                "DELETE FROM cluster_queue WHERE title_id = \(claim.titleId) AND session_id = \(claim.sessionId)")
        }
        return .claimed(allocation)
    }

    func insertSession(
        _ connection: PostgresConnection, _ allocation: Allocation, portMappingsJSON: String, enqueuedAt: Date?
    ) async throws {
        try await run(
            connection,
            """
            INSERT INTO sessions (title_id, session_id, kind, state, host_id, session_cookie, allocated_at_ms,
                acknowledge_by_ms, enqueued_at_ms, host_name, region, port_mappings, secure_context)
            VALUES (\(allocation.titleId), \(allocation.sessionId), \(allocation.kind.rawValue), \(allocation.state.rawValue),
                \(allocation.sessionHostId), \(allocation.sessionCookie), \(allocation.allocatedAt.milliseconds),
                \(allocation.acknowledgeBy.milliseconds), \(enqueuedAt?.milliseconds), \(allocation.hostName),
                \(allocation.region), \(portMappingsJSON), \(allocation.secureContext))
            """)
    }

    /// Puts a cluster request back at the head of its title's queue with its first queue time
    /// (its `seq` from the descending sequence sorts before every other ticket).
    func requeue(_ connection: PostgresConnection, titleId: String, sessionId: String, enqueuedAt: Date, polledAt: Date)
        async throws
    {
        try await run(
            connection,
            """
            INSERT INTO cluster_queue (seq, title_id, session_id, enqueued_at_ms, last_polled_at_ms)
            VALUES (nextval('cluster_queue_head'), \(titleId), \(sessionId), \(enqueuedAt.milliseconds), \(polledAt.milliseconds))
            ON CONFLICT (title_id, session_id) DO NOTHING
            """)
    }
}

/// The statement that marks the live host for a request Allocating (SPEC §2): a host that
/// declared a sandbox, cloud game or game mode serves only requests with the same value
/// (`TitleRules.matchKey`), one that declared none serves any; with a region key, only hosts in
/// that region; a draining host never. `.distributed` takes the longest-StandingBy host; `.packed` first the host whose
/// VM has the most hosts holding a session (a count per candidate through `hosts_vm_busy`), then
/// the longest-StandingBy.
struct CandidateQuery {
    var statement: PostgresQuery

    init(
        titleId: String, sessionId: String, criteria: HostCriteria, liveSince: Date, regionKey: String?,
        excluding: Set<String>, strategy: AllocationStrategy = .packed,
        now: Date, skipLocked: Bool
    ) {
        var binds = PostgresBindings()
        func bind(_ value: String?) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        let session = bind(sessionId)
        var filter = "title_id = \(bind(titleId)) AND state = 'StandingBy' AND session_id IS NULL"
        binds.append(liveSince.milliseconds)
        filter += " AND last_heartbeat_ms >= $\(binds.count)"
        filter += " AND (sandbox_key IS NULL OR sandbox_key = \(bind(TitleRules.matchKey(criteria.sandboxId))))"
        filter += " AND (cloud_game_key IS NULL OR cloud_game_key = \(bind(TitleRules.matchKey(criteria.cloudGameId))))"
        filter += " AND (game_mode_key IS NULL OR game_mode_key = \(bind(TitleRules.matchKey(criteria.gameModeId))))"
        filter += " AND drain_deadline_ms IS NULL"
        if let regionKey { filter += " AND region_key = \(bind(regionKey))" }
        if !excluding.isEmpty {
            binds.append(Array(excluding))
            filter += " AND host_id <> ALL($\(binds.count))"
        }
        binds.append(AssignmentRevision.floor(now))
        let revision = "$\(binds.count)"
        let locking = skipLocked ? "FOR UPDATE SKIP LOCKED" : "FOR UPDATE"
        let order =
            switch strategy {
            case .distributed: "standing_by_since_ms, host_id"
            case .packed:
                "(SELECT COUNT(*) FROM hosts AS busy WHERE busy.vm_id = candidate.vm_id"
                    + " AND busy.session_id IS NOT NULL) DESC, standing_by_since_ms, host_id"
            }
        statement = PostgresQuery(
            unsafeSQL: """
                UPDATE hosts SET state = 'Allocating', session_id = \(session), standing_by_since_ms = NULL,
                    players = NULL, revision = GREATEST(revision + 1, \(revision))
                WHERE host_id = (
                    SELECT host_id FROM hosts AS candidate WHERE \(filter)
                    ORDER BY \(order) LIMIT 1 \(locking))
                RETURNING \(ClaimedHost.columns)
                """,
            binds: binds)
    }
}
