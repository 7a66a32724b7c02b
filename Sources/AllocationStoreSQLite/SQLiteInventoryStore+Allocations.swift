public import AllocationStore
public import FoundationEssentials
import GRDB

extension SQLiteInventoryStore {
    /// `.active` or `.inFlight` for a session the title already has; otherwise claims a live
    /// matching host as `claim.strategy` says (`.claimed`) or answers `.noHost`.
    public func claimHost(_ claim: AllocationClaim) async throws -> ClaimOutcome {
        try await write { db in
            if let existing = try Self.session(db, titleId: claim.titleId, sessionId: claim.sessionId) {
                return existing.allocation.state == .active
                    ? .active(existing.allocation) : .inFlight(existing.allocation)
            }
            return try Self.claimFresh(db, claim)
        }
    }

    /// The agent acknowledged: Allocating becomes Active; idempotent when already Active on that
    /// host; nil when the session is not on the host. The acknowledgement counts as a heartbeat.
    public func confirmHandoff(hostId: String, sessionId: String, at now: Date) async throws -> HostAssignment? {
        try await write { db in
            let rows = try db.rows(
                "SELECT \(SessionRow.columns) FROM sessions WHERE host_id = ? AND session_id = ?",
                [hostId, sessionId]
            )
            guard let row = rows.first else { return nil }
            var session = try SessionRow(row).allocation
            let host: [Row]
            if session.state == .allocating {
                try db.run(
                    "UPDATE sessions SET state = 'Active' WHERE title_id = ? AND session_id = ?",
                    [session.titleId, sessionId]
                )
                session.state = .active
                host = try db.rows(
                    """
                    UPDATE hosts SET state = CASE health WHEN 'Unhealthy' THEN 'Unhealthy' ELSE 'Active' END,
                        standing_by_since_ms = NULL, last_heartbeat_ms = MAX(last_heartbeat_ms, ?),
                        revision = MAX(revision + 1, ?)
                    WHERE host_id = ?
                    RETURNING \(HostRow.columns)
                    """,
                    [now.storeArgument, AssignmentRevision.floor(now), hostId]
                )
            } else {
                host = try db.rows(
                    "UPDATE hosts SET last_heartbeat_ms = MAX(last_heartbeat_ms, ?) WHERE host_id = ? RETURNING \(HostRow.columns)",
                    [now.storeArgument, hostId]
                )
            }
            return HostAssignment(host: try Self.onlyHost(host, id: hostId), session: session)
        }
    }

    /// Moves a hand-off the failed host did not acknowledge (see `InventoryStore.reassignHandoff`):
    /// the failed host becomes Unhealthy; the session goes to the next candidate or, with none,
    /// is dropped (a cluster request back at the head of its queue, with its first queue time).
    public func reassignHandoff(_ claim: AllocationClaim, failedHostId: String) async throws -> ClaimOutcome {
        try await write { db in
            guard let current = try Self.session(db, titleId: claim.titleId, sessionId: claim.sessionId) else {
                return try Self.claimFresh(db, claim)
            }
            let allocation = current.allocation
            if allocation.state == .active { return .active(allocation) }
            guard allocation.sessionHostId == failedHostId else { return .inFlight(allocation) }

            try Self.releaseUnacknowledged(db, hostId: failedHostId, at: claim.now)
            if let host = try Self.takeCandidate(db, claim) {
                try db.run(
                    """
                    UPDATE sessions SET host_id = ?, host_name = ?, region = ?, port_mappings = ?, secure_context = ?,
                        allocated_at_ms = ?, acknowledge_by_ms = ?
                    WHERE title_id = ? AND session_id = ?
                    """,
                    [
                        host.hostId, host.hostName, host.region, host.portMappingsJSON,
                        host.secureContext, claim.now.storeArgument, claim.acknowledgeBy.storeArgument,
                        claim.titleId, claim.sessionId,
                    ]
                )
                return .claimed(host.takingOver(allocation, for: claim))
            }
            try db.run(
                "DELETE FROM sessions WHERE title_id = ? AND session_id = ?", [claim.titleId, claim.sessionId]
            )
            if allocation.kind == .cluster {
                try Self.requeue(
                    db, titleId: claim.titleId, sessionId: claim.sessionId,
                    enqueuedAt: current.enqueuedAt ?? allocation.allocatedAt, polledAt: claim.now
                )
            }
            return .noHost
        }
    }

    /// The title's allocation with this session id, Allocating or Active.
    public func allocation(titleId: String, sessionId: String) async throws -> Allocation? {
        try await read { db in try Self.session(db, titleId: titleId, sessionId: sessionId)?.allocation }
    }

    /// The session waiting for this host's acknowledgement, if any.
    public func pendingHandoff(hostId: String) async throws -> PendingHandoff? {
        try await read { db in
            try db.rows(
                "SELECT \(PendingHandoff.columns) FROM sessions WHERE host_id = ? AND state = 'Allocating'", [hostId]
            ).first.map { try PendingHandoff(Columns($0)) }
        }
    }

    /// The game finished: the session is removed and the host is Terminating. Throws
    /// `StoreError.unknownHost`, or `sessionMismatch` when the host does not hold that session.
    public func endSession(hostId: String, sessionId: String, at now: Date) async throws -> HostRecord {
        try await write { db in
            let rows = try db.rows("SELECT session_id FROM hosts WHERE host_id = ?", [hostId])
            guard let row = rows.first else { throw StoreError.unknownHost(hostId) }
            guard try Columns(row).optionalText("session_id") == sessionId else {
                throw StoreError.sessionMismatch(hostId, sessionId)
            }
            try db.run("DELETE FROM sessions WHERE host_id = ?", [hostId])
            let updated = try db.rows(
                """
                UPDATE hosts SET state = 'Terminating', session_id = NULL, standing_by_since_ms = NULL, players = NULL,
                    last_heartbeat_ms = MAX(last_heartbeat_ms, ?), revision = MAX(revision + 1, ?)
                WHERE host_id = ?
                RETURNING \(HostRow.columns)
                """,
                [now.storeArgument, AssignmentRevision.floor(now), hostId]
            )
            try Self.recountVM(db, ofHost: hostId)
            return try Self.onlyHost(updated, id: hostId)
        }
    }

    // MARK: Helpers

    static func session(_ db: Database, titleId: String, sessionId: String) throws -> SessionRow? {
        try db.rows(
            "SELECT \(SessionRow.columns) FROM sessions WHERE title_id = ? AND session_id = ?", [titleId, sessionId]
        ).first.map(SessionRow.init)
    }

    /// Marks the best candidate host for `claim` Allocating with its session and returns its
    /// description; nil when no host matches.
    static func takeCandidate(_ db: Database, _ claim: AllocationClaim) throws -> ClaimedHost? {
        try takeCandidate(
            db, titleId: claim.titleId, sessionId: claim.sessionId, criteria: claim.criteria,
            liveSince: claim.liveSince,
            excluding: claim.unreachableHostIds, strategy: claim.strategy, at: claim.now)
    }

    /// Marks the best candidate host (as `strategy` says) Allocating with the session and returns
    /// its description; nil when no host matches. Hosts in `excluding` are passed over.
    static func takeCandidate(
        _ db: Database, titleId: String, sessionId: String, criteria: HostCriteria, liveSince: Date,
        excluding: Set<String>, strategy: AllocationStrategy, at now: Date
    ) throws -> ClaimedHost? {
        let candidate = CandidateQuery(
            titleId: titleId, criteria: criteria, liveSince: liveSince, excluding: excluding, strategy: strategy)
        guard let hostId = try candidate.first(db) else { return nil }
        let rows = try db.rows(
            """
            UPDATE hosts SET state = 'Allocating', session_id = ?, standing_by_since_ms = NULL, players = NULL,
                revision = MAX(revision + 1, ?)
            WHERE host_id = ?
            RETURNING \(ClaimedHost.columns)
            """,
            [sessionId, AssignmentRevision.floor(now), hostId]
        )
        guard let host = try rows.first.map(ClaimedHost.init) else { return nil }
        try recountVM(db, ofHost: host.hostId)
        return host
    }

    /// A host that did not acknowledge its hand-off in time loses it (and its players) and
    /// becomes Unhealthy.
    static func releaseUnacknowledged(_ db: Database, hostId: String, at now: Date) throws {
        try db.run(
            """
            UPDATE hosts SET state = 'Unhealthy', session_id = NULL, standing_by_since_ms = NULL, players = NULL,
                revision = MAX(revision + 1, ?)
            WHERE host_id = ?
            """,
            [AssignmentRevision.floor(now), hostId]
        )
        try recountVM(db, ofHost: hostId)
    }

    /// Claims a host for a session the title does not have yet.
    static func claimFresh(_ db: Database, _ claim: AllocationClaim) throws -> ClaimOutcome {
        guard let host = try takeCandidate(db, claim) else {
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
        try insertSession(
            db, allocation, portMappingsJSON: host.portMappingsJSON,
            enqueuedAt: claim.kind == .cluster ? claim.now : nil)
        if claim.kind == .cluster {
            try db.run(
                "DELETE FROM cluster_queue WHERE title_id = ? AND session_id = ?", [claim.titleId, claim.sessionId]
            )
        }
        return .claimed(allocation)
    }

    static func insertSession(_ db: Database, _ allocation: Allocation, portMappingsJSON: String, enqueuedAt: Date?)
        throws
    {
        try db.run(
            """
            INSERT INTO sessions (title_id, session_id, kind, state, host_id, session_cookie, allocated_at_ms,
                acknowledge_by_ms, enqueued_at_ms, host_name, region, port_mappings, secure_context)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                allocation.titleId, allocation.sessionId, allocation.kind.rawValue,
                allocation.state.rawValue, allocation.sessionHostId, allocation.sessionCookie,
                allocation.allocatedAt.storeArgument, allocation.acknowledgeBy.storeArgument, enqueuedAt.storeArgument,
                allocation.hostName, allocation.region, portMappingsJSON, allocation.secureContext,
            ]
        )
    }

    /// Puts a cluster request back at the head of its title's queue with its first queue time.
    static func requeue(_ db: Database, titleId: String, sessionId: String, enqueuedAt: Date, polledAt: Date) throws {
        try db.run(
            """
            INSERT INTO cluster_queue (seq, title_id, session_id, enqueued_at_ms, last_polled_at_ms)
            VALUES ((SELECT COALESCE(MIN(seq), 1) - 1 FROM cluster_queue), ?, ?, ?, ?)
            ON CONFLICT (title_id, session_id) DO NOTHING
            """,
            [titleId, sessionId, enqueuedAt.storeArgument, polledAt.storeArgument]
        )
    }
}
