public import AllocationStore
public import FoundationEssentials
import SQLiteNIO

extension SQLiteInventoryStore {
    /// `.active` or `.inFlight` for a session the title already has; otherwise claims the
    /// longest-StandingBy live matching host (`.claimed`) or answers `.noHost`.
    public func claimHost(_ claim: AllocationClaim) async throws -> ClaimOutcome {
        try await write { db in
            if let existing = try await Self.session(db, titleId: claim.titleId, sessionId: claim.sessionId) {
                return existing.allocation.state == .active ? .active(existing.allocation) : .inFlight(existing.allocation)
            }
            return try await Self.claimFresh(db, claim)
        }
    }

    /// The agent acknowledged: Allocating becomes Active; idempotent when already Active on that
    /// host; nil when the session is not on the host. The acknowledgement counts as a heartbeat.
    public func confirmHandoff(hostId: String, sessionId: String, at now: Date) async throws -> Allocation? {
        try await write { db in
            let rows = try await db.query(
                "SELECT \(SessionRow.columns) FROM sessions WHERE host_id = ? AND session_id = ?",
                [.text(hostId), .text(sessionId)]
            )
            guard let row = rows.first else { return nil }
            var session = try SessionRow(row).allocation
            if session.state == .allocating {
                _ = try await db.query(
                    "UPDATE sessions SET state = 'Active' WHERE title_id = ? AND session_id = ?",
                    [.text(session.titleId), .text(sessionId)]
                )
                session.state = .active
                _ = try await db.query(
                    """
                    UPDATE hosts SET state = CASE health WHEN 'Unhealthy' THEN 'Unhealthy' ELSE 'Active' END,
                        standing_by_since_ms = NULL, last_heartbeat_ms = MAX(last_heartbeat_ms, ?)
                    WHERE host_id = ?
                    """,
                    [.milliseconds(now), .text(hostId)]
                )
            } else {
                _ = try await db.query(
                    "UPDATE hosts SET last_heartbeat_ms = MAX(last_heartbeat_ms, ?) WHERE host_id = ?",
                    [.milliseconds(now), .text(hostId)]
                )
            }
            return session
        }
    }

    /// Moves a hand-off the failed host did not acknowledge (see `InventoryStore.reassignHandoff`):
    /// the failed host becomes Unhealthy; the session goes to the next candidate or, with none,
    /// is dropped (a cluster request back at the head of its queue, with its first queue time).
    public func reassignHandoff(_ claim: AllocationClaim, failedHostId: String) async throws -> ClaimOutcome {
        try await write { db in
            guard let current = try await Self.session(db, titleId: claim.titleId, sessionId: claim.sessionId) else {
                return try await Self.claimFresh(db, claim)
            }
            let allocation = current.allocation
            if allocation.state == .active { return .active(allocation) }
            guard allocation.sessionHostId == failedHostId else { return .inFlight(allocation) }

            _ = try await db.query(
                "UPDATE hosts SET state = 'Unhealthy', session_id = NULL, standing_by_since_ms = NULL WHERE host_id = ?",
                [.text(failedHostId)]
            )
            if let host = try await Self.takeCandidate(
                db, titleId: claim.titleId, sessionId: claim.sessionId, criteria: claim.criteria, liveSince: claim.liveSince
            ) {
                _ = try await db.query(
                    """
                    UPDATE sessions SET host_id = ?, host_name = ?, region = ?, port_mappings = ?, secure_context = ?,
                        allocated_at_ms = ?, acknowledge_by_ms = ?
                    WHERE title_id = ? AND session_id = ?
                    """,
                    [
                        .text(host.hostId), .text(host.hostName), .text(host.region), .text(host.portMappingsJSON),
                        .text(host.secureContext), .milliseconds(claim.now), .milliseconds(claim.acknowledgeBy),
                        .text(claim.titleId), .text(claim.sessionId),
                    ]
                )
                var moved = allocation
                moved.sessionHostId = host.hostId
                moved.hostName = host.hostName
                moved.region = host.region
                moved.portMappings = host.portMappings
                moved.secureContext = host.secureContext
                moved.allocatedAt = claim.now.storeRounded
                moved.acknowledgeBy = claim.acknowledgeBy.storeRounded
                return .claimed(moved)
            }
            _ = try await db.query(
                "DELETE FROM sessions WHERE title_id = ? AND session_id = ?", [.text(claim.titleId), .text(claim.sessionId)]
            )
            if allocation.kind == .cluster {
                try await Self.requeue(
                    db, titleId: claim.titleId, sessionId: claim.sessionId,
                    enqueuedAt: current.enqueuedAt ?? allocation.allocatedAt, polledAt: claim.now
                )
            }
            return .noHost
        }
    }

    /// The title's allocation with this session id, Allocating or Active.
    public func allocation(titleId: String, sessionId: String) async throws -> Allocation? {
        try await read { db in try await Self.session(db, titleId: titleId, sessionId: sessionId)?.allocation }
    }

    /// The session waiting for this host's acknowledgement, if any.
    public func pendingHandoff(hostId: String) async throws -> Allocation? {
        try await read { db in
            try await db.query(
                "SELECT \(SessionRow.columns) FROM sessions WHERE host_id = ? AND state = 'Allocating'", [.text(hostId)]
            ).first.map { try SessionRow($0).allocation }
        }
    }

    /// The game finished: the session is removed and the host is Terminating. Throws
    /// `StoreError.unknownHost`, or `sessionMismatch` when the host does not hold that session.
    public func endSession(hostId: String, sessionId: String, at now: Date) async throws -> HostRecord {
        try await write { db in
            let rows = try await db.query("SELECT session_id FROM hosts WHERE host_id = ?", [.text(hostId)])
            guard let row = rows.first else { throw StoreError.unknownHost(hostId) }
            guard try Columns(row).optionalText("session_id") == sessionId else {
                throw StoreError.sessionMismatch(hostId, sessionId)
            }
            _ = try await db.query("DELETE FROM sessions WHERE host_id = ?", [.text(hostId)])
            let updated = try await db.query(
                """
                UPDATE hosts SET state = 'Terminating', session_id = NULL, standing_by_since_ms = NULL,
                    last_heartbeat_ms = MAX(last_heartbeat_ms, ?)
                WHERE host_id = ?
                RETURNING \(HostRow.columns)
                """,
                [.milliseconds(now), .text(hostId)]
            )
            return try Self.onlyHost(updated, id: hostId)
        }
    }

    // MARK: Helpers

    static func session(_ db: SQLiteConnection, titleId: String, sessionId: String) async throws -> SessionRow? {
        try await db.query(
            "SELECT \(SessionRow.columns) FROM sessions WHERE title_id = ? AND session_id = ?", [.text(titleId), .text(sessionId)]
        ).first.map(SessionRow.init)
    }

    /// Marks the best candidate host Allocating with the session and returns its description;
    /// nil when no host matches.
    static func takeCandidate(
        _ db: SQLiteConnection, titleId: String, sessionId: String, criteria: HostCriteria, liveSince: Date
    ) async throws -> ClaimedHost? {
        let candidate = CandidateQuery(titleId: titleId, criteria: criteria, liveSince: liveSince)
        let rows = try await db.query(
            """
            UPDATE hosts SET state = 'Allocating', session_id = ?, standing_by_since_ms = NULL
            WHERE host_id = (\(candidate.sql))
            RETURNING \(ClaimedHost.columns)
            """,
            [.text(sessionId)] + candidate.binds
        )
        return try rows.first.map(ClaimedHost.init)
    }

    /// Claims a host for a session the title does not have yet.
    static func claimFresh(_ db: SQLiteConnection, _ claim: AllocationClaim) async throws -> ClaimOutcome {
        guard let host = try await takeCandidate(
            db, titleId: claim.titleId, sessionId: claim.sessionId, criteria: claim.criteria, liveSince: claim.liveSince
        ) else {
            return .noHost
        }
        let allocation = Allocation(
            titleId: claim.titleId, sessionId: claim.sessionId, kind: claim.kind, state: .allocating,
            sessionCookie: claim.sessionCookie, allocatedAt: claim.now.storeRounded, acknowledgeBy: claim.acknowledgeBy.storeRounded,
            sessionHostId: host.hostId, hostName: host.hostName, region: host.region, portMappings: host.portMappings,
            secureContext: host.secureContext
        )
        // A cluster request remembers when it was first made, to keep its place if it is put back.
        try await insertSession(db, allocation, portMappingsJSON: host.portMappingsJSON, enqueuedAt: claim.kind == .cluster ? claim.now : nil)
        if claim.kind == .cluster {
            _ = try await db.query(
                "DELETE FROM cluster_queue WHERE title_id = ? AND session_id = ?", [.text(claim.titleId), .text(claim.sessionId)]
            )
        }
        return .claimed(allocation)
    }

    static func insertSession(_ db: SQLiteConnection, _ allocation: Allocation, portMappingsJSON: String, enqueuedAt: Date?) async throws {
        _ = try await db.query(
            """
            INSERT INTO sessions (title_id, session_id, kind, state, host_id, session_cookie, allocated_at_ms,
                acknowledge_by_ms, enqueued_at_ms, host_name, region, port_mappings, secure_context)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(allocation.titleId), .text(allocation.sessionId), .text(allocation.kind.rawValue),
                .text(allocation.state.rawValue), .text(allocation.sessionHostId), .optionalText(allocation.sessionCookie),
                .milliseconds(allocation.allocatedAt), .milliseconds(allocation.acknowledgeBy), .milliseconds(enqueuedAt),
                .text(allocation.hostName), .text(allocation.region), .text(portMappingsJSON), .text(allocation.secureContext),
            ]
        )
    }

    /// Puts a cluster request back at the head of its title's queue with its first queue time.
    static func requeue(_ db: SQLiteConnection, titleId: String, sessionId: String, enqueuedAt: Date, polledAt: Date) async throws {
        _ = try await db.query(
            """
            INSERT INTO cluster_queue (seq, title_id, session_id, enqueued_at_ms, last_polled_at_ms)
            VALUES ((SELECT COALESCE(MIN(seq), 1) - 1 FROM cluster_queue), ?, ?, ?, ?)
            ON CONFLICT (title_id, session_id) DO NOTHING
            """,
            [.text(titleId), .text(sessionId), .milliseconds(enqueuedAt), .milliseconds(polledAt)]
        )
    }
}
