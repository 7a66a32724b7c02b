import AllocationStore
import FoundationEssentials
import PostgresNIO
import SessionHostModel

// MARK: Values

extension Date {
    /// Whole milliseconds since 1970, as stored (rounded down; clamped far beyond any real date),
    /// the same as the embedded store, so both give back the same dates.
    var milliseconds: Int64 {
        let value = (timeIntervalSince1970 * 1000).rounded(.down)
        guard value.isFinite else { return value < 0 ? -Self.limit : Self.limit }
        return Int64(max(-Double(Self.limit), min(Double(Self.limit), value)))
    }

    init(milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// A date as the store gives it back.
    var storeRounded: Date { Date(milliseconds: milliseconds) }

    private static let limit: Int64 = 1 << 52
}

/// Typed access to the columns of one result row; a missing or mistyped column is
/// `StoreError.unavailable` (a damaged or foreign database), never a crash.
struct Columns {
    private let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) { self.row = row.makeRandomAccess() }

    func text(_ name: String) throws -> String {
        guard let value = try optionalText(name) else { throw Self.bad(name, "text") }
        return value
    }

    func optionalText(_ name: String) throws -> String? { try decode(name, String?.self, "text or null") }

    func int(_ name: String) throws -> Int64 {
        guard let value = try optionalInt(name) else { throw Self.bad(name, "integer") }
        return value
    }

    func optionalInt(_ name: String) throws -> Int64? { try decode(name, Int64?.self, "integer or null") }

    func bool(_ name: String) throws -> Bool {
        guard let value = try decode(name, Bool?.self, "boolean") else { throw Self.bad(name, "boolean") }
        return value
    }

    func date(_ name: String) throws -> Date { Date(milliseconds: try int(name)) }

    func optionalDate(_ name: String) throws -> Date? { try optionalInt(name).map(Date.init(milliseconds:)) }

    func enumeration<T: RawRepresentable>(_ name: String, _: T.Type) throws -> T where T.RawValue == String {
        let raw = try text(name)
        guard let value = T(rawValue: raw) else {
            throw StoreError.unavailable("column \(name) holds an unknown value '\(raw.prefix(40))'")
        }
        return value
    }

    func portMappings(_ name: String) throws -> [PortMapping] {
        try PortMappingsJSON.decode(try text(name), column: name)
    }

    private func decode<T: PostgresDecodable>(_ name: String, _ type: T.Type, _ expected: String) throws -> T {
        guard row.contains(name) else { throw Self.bad(name, expected) }
        do {
            return try row[name].decode(type, context: .default)
        } catch {
            throw Self.bad(name, expected)
        }
    }

    private static func bad(_ name: String, _ expected: String) -> StoreError {
        StoreError.unavailable("column \(name) is missing or not \(expected)")
    }
}

/// Port mappings as stored: a JSON array in a text column.
enum PortMappingsJSON {
    static func decode(_ json: String, column: String) throws -> [PortMapping] {
        do {
            return try JSONDecoder().decode([PortMapping].self, from: Data(json.utf8))
        } catch {
            throw StoreError.unavailable("column \(column) does not hold port mappings: \(error)")
        }
    }

    static func encode(_ mappings: [PortMapping]) throws -> String {
        do {
            return String(decoding: try JSONEncoder().encode(mappings), as: UTF8.self)
        } catch {
            throw StoreError.unavailable("cannot encode port mappings: \(error)")
        }
    }
}

// MARK: Records

enum HostRow {
    /// The columns `record(_:)` reads.
    static let columns = """
        host_id, title_id, region, host_name, port_mappings, secure_context, sandbox_id, cloud_game_id, \
        game_mode_id, state, session_id, last_heartbeat_ms, standing_by_since_ms, health, registered_state
        """

    static func record(_ row: PostgresRow) throws -> HostRecord {
        let c = Columns(row)
        let registration = HostRegistration(
            titleId: try c.text("title_id"), region: try c.text("region"), hostName: try c.text("host_name"),
            portMappings: try c.portMappings("port_mappings"), secureContext: try c.text("secure_context"),
            sandboxId: try c.optionalText("sandbox_id"), cloudGameId: try c.optionalText("cloud_game_id"),
            gameModeId: try c.optionalText("game_mode_id"), state: try c.enumeration("registered_state", HostState.self),
            health: try c.enumeration("health", GameHealth.self)
        )
        return HostRecord(
            sessionHostId: try c.text("host_id"), registration: registration, state: try c.enumeration("state", HostState.self),
            sessionId: try c.optionalText("session_id"), lastHeartbeat: try c.date("last_heartbeat_ms"),
            standingBySince: try c.optionalDate("standing_by_since_ms")
        )
    }
}

/// A `sessions` row: the allocation plus what the store keeps beside it.
struct SessionRow {
    var allocation: Allocation
    /// Cluster sessions: when the request first queued (or was first made), to put it back in place.
    var enqueuedAt: Date?

    /// The columns `init(_:)` reads.
    static let columns = """
        title_id, session_id, kind, state, host_id, session_cookie, allocated_at_ms, acknowledge_by_ms, \
        enqueued_at_ms, host_name, region, port_mappings, secure_context
        """

    init(_ row: PostgresRow) throws {
        let c = Columns(row)
        allocation = Allocation(
            titleId: try c.text("title_id"), sessionId: try c.text("session_id"), kind: try c.enumeration("kind", AllocationKind.self),
            state: try c.enumeration("state", Allocation.State.self), sessionCookie: try c.optionalText("session_cookie"),
            allocatedAt: try c.date("allocated_at_ms"), acknowledgeBy: try c.date("acknowledge_by_ms"),
            sessionHostId: try c.text("host_id"), hostName: try c.text("host_name"), region: try c.text("region"),
            portMappings: try c.portMappings("port_mappings"), secureContext: try c.text("secure_context")
        )
        enqueuedAt = try c.optionalDate("enqueued_at_ms")
    }
}

/// The host description copied into a session when it is placed.
struct ClaimedHost {
    var hostId: String
    var hostName: String
    var region: String
    var portMappingsJSON: String
    var portMappings: [PortMapping]
    var secureContext: String

    static let columns = "host_id, host_name, region, port_mappings, secure_context"

    init(_ row: PostgresRow) throws {
        let c = Columns(row)
        hostId = try c.text("host_id")
        hostName = try c.text("host_name")
        region = try c.text("region")
        portMappingsJSON = try c.text("port_mappings")
        portMappings = try c.portMappings("port_mappings")
        secureContext = try c.text("secure_context")
    }
}
