package import FoundationEssentials
package import SessionHostModel

/// Typed access to the columns of one result row, whatever the database driver: each store
/// implements the four raw reads; the rest follows. A missing or mistyped column is
/// `StoreError.unavailable` (a damaged or foreign database), never a crash.
package protocol StoreColumns {
    func text(_ name: String) throws -> String
    func optionalText(_ name: String) throws -> String?
    func int(_ name: String) throws -> Int64
    func optionalInt(_ name: String) throws -> Int64?
    /// A flag: a boolean column, or an integer one holding 0 or 1.
    func bool(_ name: String) throws -> Bool
}

extension StoreColumns {
    package func date(_ name: String) throws -> Date { Date(storeMilliseconds: try int(name)) }

    package func optionalDate(_ name: String) throws -> Date? {
        try optionalInt(name).map(Date.init(storeMilliseconds:))
    }

    package func enumeration<T: RawRepresentable>(_ name: String, _: T.Type) throws -> T where T.RawValue == String {
        let raw = try text(name)
        guard let value = T(rawValue: raw) else {
            throw StoreError.unavailable("column \(name) holds an unknown value '\(raw.prefix(40))'")
        }
        return value
    }

    package func portMappings(_ name: String) throws -> [PortMapping] {
        let json = try text(name)
        do {
            return try PortMappingsJSON.decode(json)
        } catch {
            throw StoreError.unavailable("column \(name) does not hold port mappings: \(error)")
        }
    }

    package func optionalPlayers(_ name: String) throws -> [Player]? {
        guard let json = try optionalText(name) else { return nil }
        do {
            return try PlayersJSON.decode(json)
        } catch {
            throw StoreError.unavailable("column \(name) does not hold players: \(error)")
        }
    }

    /// The drain kept in the columns `drain_deadline_ms`, `drain_source` and `drain_reason`.
    package func drain() throws -> HostDrain? {
        guard let deadline = try optionalDate("drain_deadline_ms") else { return nil }
        return HostDrain(
            deadline: deadline, source: try enumeration("drain_source", DrainSource.self),
            reason: try optionalText("drain_reason"))
    }
}

/// A `hosts` row as a `HostRecord`.
package enum HostRow {
    /// The columns `record(_:)` reads.
    package static let columns = """
        host_id, title_id, region, host_name, port_mappings, secure_context, sandbox_id, cloud_game_id, \
        game_mode_id, vm_id, state, session_id, last_heartbeat_ms, standing_by_since_ms, health, registered_state, \
        revision, drain_deadline_ms, drain_source, drain_reason, drained, players
        """

    /// The `vm_id` column's value for a registration: its `vmId`, else the host's own id.
    package static func vmId(hostId: String, _ registration: HostRegistration) -> String {
        registration.vmId ?? hostId
    }

    /// The record of a row. The registration's `drain` reads back nil: the drain in force is the
    /// record's `drain`.
    package static func record(_ c: some StoreColumns) throws -> HostRecord {
        let hostId = try c.text("host_id")
        let vmId = try c.text("vm_id")
        let registration = HostRegistration(
            titleId: try c.text("title_id"), region: try c.text("region"), hostName: try c.text("host_name"),
            portMappings: try c.portMappings("port_mappings"), secureContext: try c.text("secure_context"),
            sandboxId: try c.optionalText("sandbox_id"), cloudGameId: try c.optionalText("cloud_game_id"),
            gameModeId: try c.optionalText("game_mode_id"), vmId: vmId == hostId ? nil : vmId,
            state: try c.enumeration("registered_state", HostState.self),
            health: try c.enumeration("health", GameHealth.self)
        )
        return HostRecord(
            sessionHostId: hostId, registration: registration,
            state: try c.enumeration("state", HostState.self),
            sessionId: try c.optionalText("session_id"), lastHeartbeat: try c.date("last_heartbeat_ms"),
            standingBySince: try c.optionalDate("standing_by_since_ms"), revision: try c.int("revision"),
            drain: try c.drain(), drained: try c.bool("drained"), players: try c.optionalPlayers("players")
        )
    }
}

/// A `sessions` row: the allocation plus what the store keeps beside it.
package struct SessionRow: Sendable {
    package var allocation: Allocation
    /// Cluster sessions: when the request first queued (or was first made), to put it back in place.
    package var enqueuedAt: Date?

    /// The columns `init(_:)` reads.
    package static let columns = """
        title_id, session_id, kind, state, host_id, session_cookie, allocated_at_ms, acknowledge_by_ms, \
        enqueued_at_ms, host_name, region, port_mappings, secure_context
        """

    package init(allocation: Allocation, enqueuedAt: Date?) {
        self.allocation = allocation
        self.enqueuedAt = enqueuedAt
    }

    package init(_ c: some StoreColumns) throws {
        allocation = Allocation(
            titleId: try c.text("title_id"), sessionId: try c.text("session_id"),
            kind: try c.enumeration("kind", AllocationKind.self),
            state: try c.enumeration("state", Allocation.State.self),
            sessionCookie: try c.optionalText("session_cookie"),
            allocatedAt: try c.date("allocated_at_ms"), acknowledgeBy: try c.date("acknowledge_by_ms"),
            sessionHostId: try c.text("host_id"), hostName: try c.text("host_name"), region: try c.text("region"),
            portMappings: try c.portMappings("port_mappings"), secureContext: try c.text("secure_context")
        )
        enqueuedAt = try c.optionalDate("enqueued_at_ms")
    }
}

extension PendingHandoff {
    /// The select list `init(_:)` reads, from `sessions`: the session and its host's revision.
    package static let columns =
        SessionRow.columns + ", (SELECT h.revision FROM hosts h WHERE h.host_id = sessions.host_id) AS host_revision"

    package init(_ c: some StoreColumns) throws {
        self.init(allocation: try SessionRow(c).allocation, hostRevision: try c.int("host_revision"))
    }
}

/// The host description copied into a session when it is placed.
package struct ClaimedHost: Sendable {
    package var hostId: String
    package var hostName: String
    package var region: String
    package var portMappingsJSON: String
    package var portMappings: [PortMapping]
    package var secureContext: String

    package static let columns = "host_id, host_name, region, port_mappings, secure_context"

    /// `allocation` moved to this host by `claim` (a hand-off given to the next host), as the
    /// store gives it back.
    package func takingOver(_ allocation: Allocation, for claim: AllocationClaim) -> Allocation {
        var moved = allocation
        moved.sessionHostId = hostId
        moved.hostName = hostName
        moved.region = region
        moved.portMappings = portMappings
        moved.secureContext = secureContext
        moved.allocatedAt = claim.now.storeRounded
        moved.acknowledgeBy = claim.acknowledgeBy.storeRounded
        return moved
    }

    package init(_ c: some StoreColumns) throws {
        hostId = try c.text("host_id")
        hostName = try c.text("host_name")
        region = try c.text("region")
        portMappingsJSON = try c.text("port_mappings")
        portMappings = try c.portMappings("port_mappings")
        secureContext = try c.text("secure_context")
    }
}

/// What reconciliation needs to know of a host: its row and the state of its session.
package struct CurrentHost: Sendable {
    package var titleId: String
    package var state: HostState
    package var sessionId: String?
    package var sessionState: Allocation.State?
    package var standingBySince: Date?
    package var revision: Int64
    /// The VM the host runs on (`HostRecord.vmId`).
    package var vmId: String

    /// The select list `init(_:)` reads, from `hosts h LEFT JOIN sessions s ON s.host_id = h.host_id`.
    package static let columns =
        "h.title_id, h.state, h.session_id, h.standing_by_since_ms, h.revision, h.vm_id, s.state AS session_state"

    package init(_ c: some StoreColumns) throws {
        let sessionState = try c.optionalText("session_state").map { raw in
            guard let state = Allocation.State(rawValue: raw) else {
                throw StoreError.unavailable("column session_state holds an unknown value '\(raw.prefix(40))'")
            }
            return state
        }
        self.sessionState = sessionState
        titleId = try c.text("title_id")
        state = try c.enumeration("state", HostState.self)
        sessionId = sessionState == nil ? nil : try c.optionalText("session_id")
        standingBySince = try c.optionalDate("standing_by_since_ms")
        revision = try c.int("revision")
        vmId = try c.text("vm_id")
    }
}
