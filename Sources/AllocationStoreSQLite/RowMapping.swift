import AllocationStore
import FoundationEssentials
import SessionHostModel
import Synchronization
import GRDB

// MARK: Values

extension Date {
    /// Whole milliseconds since 1970, as stored (rounded down; clamped far beyond any real date).
    var storeMilliseconds: Int64 {
        let value = (timeIntervalSince1970 * 1000).rounded(.down)
        guard value.isFinite else { return value < 0 ? -Self.storeLimit : Self.storeLimit }
        return Int64(max(-Double(Self.storeLimit), min(Double(Self.storeLimit), value)))
    }

    init(storeMilliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(storeMilliseconds) / 1000)
    }

    /// A date as the store gives it back.
    var storeRounded: Date { Date(storeMilliseconds: storeMilliseconds) }

    private static let storeLimit: Int64 = 1 << 52
}

extension Date {
    /// The stored form, for a statement argument.
    var storeArgument: Int64 { storeMilliseconds }
}

extension Optional where Wrapped == Date {
    /// The stored form, or NULL.
    var storeArgument: Int64? { self?.storeMilliseconds }
}

extension Database {
    /// The rows of `sql`, through the connection's cache of compiled statements.
    func rows(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try Row.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    /// The first row of `sql`, if any (the statement runs to its end).
    func row(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws -> Row? {
        try rows(sql, arguments).first
    }

    /// Runs `sql`, which returns no rows, through the cache of compiled statements.
    func run(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}

/// Typed access to the columns of one result row; a missing or mistyped column is
/// `StoreError.unavailable` (a damaged or foreign database), never a crash.
struct Columns {
    let row: Row

    init(_ row: Row) { self.row = row }

    func text(_ name: String) throws -> String {
        guard let value = try optionalText(name) else { throw Self.bad(name, "text") }
        return value
    }

    func optionalText(_ name: String) throws -> String? {
        guard row.hasColumn(name) else { throw Self.bad(name, "text or null") }
        switch row[name] {
        case nil: return nil
        case let value as String: return value
        default: throw Self.bad(name, "text or null")
        }
    }

    func int(_ name: String) throws -> Int64 {
        guard let value = try optionalInt(name) else { throw Self.bad(name, "integer") }
        return value
    }

    func optionalInt(_ name: String) throws -> Int64? {
        guard row.hasColumn(name) else { throw Self.bad(name, "integer or null") }
        switch row[name] {
        case nil: return nil
        case let value as Int64: return value
        default: throw Self.bad(name, "integer or null")
        }
    }

    func date(_ name: String) throws -> Date { Date(storeMilliseconds: try int(name)) }

    func optionalDate(_ name: String) throws -> Date? { try optionalInt(name).map(Date.init(storeMilliseconds:)) }

    func enumeration<T: RawRepresentable>(_ name: String, _: T.Type) throws -> T where T.RawValue == String {
        let raw = try text(name)
        guard let value = T(rawValue: raw) else {
            throw StoreError.unavailable("column \(name) holds an unknown value '\(raw.prefix(40))'")
        }
        return value
    }

    func portMappings(_ name: String) throws -> [PortMapping] {
        let json = try text(name)
        do {
            return try PortMappingsJSON.decode(json)
        } catch {
            throw StoreError.unavailable("column \(name) does not hold port mappings: \(error)")
        }
    }

    private static func bad(_ name: String, _ expected: String) -> StoreError {
        StoreError.unavailable("column \(name) is missing or not \(expected)")
    }
}

/// Port mappings as stored: a JSON array. A host's mappings are read back on every heartbeat and
/// rarely change, so decoded arrays are kept by their JSON text (a bounded cache).
enum PortMappingsJSON {
    private static let decoded = Mutex<[String: [PortMapping]]>([:])
    private static let cacheLimit = 16_384

    static func decode(_ json: String) throws -> [PortMapping] {
        if let cached = decoded.withLock({ $0[json] }) { return cached }
        let mappings = try JSONDecoder().decode([PortMapping].self, from: Data(json.utf8))
        decoded.withLock { cache in
            if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[json] = mappings
        }
        return mappings
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

    static func record(_ row: Row) throws -> HostRecord {
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

    init(allocation: Allocation, enqueuedAt: Date?) {
        self.allocation = allocation
        self.enqueuedAt = enqueuedAt
    }

    init(_ row: Row) throws {
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

    init(_ row: Row) throws {
        let c = Columns(row)
        hostId = try c.text("host_id")
        hostName = try c.text("host_name")
        region = try c.text("region")
        portMappingsJSON = try c.text("port_mappings")
        portMappings = try c.portMappings("port_mappings")
        secureContext = try c.text("secure_context")
    }
}

// MARK: Candidate hosts

/// The statement part that picks the longest-StandingBy live host for a request (SPEC §2):
/// a host that declared a sandbox, cloud game or game mode serves only requests with the same
/// value (`TitleRules.matchKey`), one that declared none serves any; with locations, only hosts
/// whose region has one of their `TitleRules.locationKey`s, tried strictly in order.
struct CandidateQuery {
    /// `SELECT host_id … LIMIT 1`, to be used as a scalar subquery.
    var sql: String
    var arguments: StatementArguments

    init(titleId: String, criteria: HostCriteria, liveSince: Date) {
        let filter = """
            title_id = ? AND state = 'StandingBy' AND session_id IS NULL AND last_heartbeat_ms >= ? \
            AND (sandbox_key IS NULL OR sandbox_key = ?) AND (cloud_game_key IS NULL OR cloud_game_key = ?) \
            AND (game_mode_key IS NULL OR game_mode_key = ?)
            """
        let filterArguments: StatementArguments = [
            titleId, liveSince.storeArgument, TitleRules.matchKey(criteria.sandboxId),
            TitleRules.matchKey(criteria.cloudGameId), TitleRules.matchKey(criteria.gameModeId),
        ]
        let order = "ORDER BY standing_by_since_ms, host_id LIMIT 1"
        if criteria.locations.isEmpty {
            sql = "SELECT host_id FROM hosts WHERE \(filter) \(order)"
            arguments = filterArguments
            return
        }
        var keys: [String] = []
        for location in criteria.locations {
            let key = TitleRules.locationKey(location)
            if !key.isEmpty, !keys.contains(key) { keys.append(key) }
        }
        guard !keys.isEmpty else {
            sql = "SELECT NULL AS host_id WHERE 0"
            arguments = StatementArguments()
            return
        }
        // One index-ordered probe per location; the first location with a host wins.
        let probes = keys.indices.map { index in
            "SELECT * FROM (SELECT host_id, \(index) AS preference FROM hosts WHERE \(filter) AND region_key = ? \(order))"
        }
        sql = "SELECT host_id FROM (\(probes.joined(separator: " UNION ALL "))) ORDER BY preference LIMIT 1"
        arguments = StatementArguments()
        for key in keys { arguments += filterArguments + [key] }
    }
}
