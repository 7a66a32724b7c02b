import AllocationStore
import FoundationEssentials
import SessionHostModel
import GRDB

// MARK: Values

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

/// The raw column reads of a GRDB row (`StoreColumns` adds the typed ones).
///
/// Columns are found by their exact name through a table made once per row: GRDB's lookup by
/// name compares every column name without regard to case, lowercasing each one on every read,
/// which cost more than the statements themselves for the 25-column host rows.
struct Columns: StoreColumns {
    let row: Row
    private let indexes: [String: Int]

    init(_ row: Row) {
        self.row = row
        var indexes: [String: Int] = [:]
        indexes.reserveCapacity(row.count)
        for (index, name) in row.columnNames.enumerated() where indexes[name] == nil {
            indexes[name] = index
        }
        self.indexes = indexes
    }

    func text(_ name: String) throws -> String {
        guard let value = try optionalText(name) else { throw Self.bad(name, "text") }
        return value
    }

    func optionalText(_ name: String) throws -> String? {
        guard let index = indexes[name] else { throw Self.bad(name, "text or null") }
        switch (row[index] as DatabaseValue).storage {
        case .null: return nil
        case .string(let value): return value
        default: throw Self.bad(name, "text or null")
        }
    }

    func int(_ name: String) throws -> Int64 {
        guard let value = try optionalInt(name) else { throw Self.bad(name, "integer") }
        return value
    }

    func optionalInt(_ name: String) throws -> Int64? {
        guard let index = indexes[name] else { throw Self.bad(name, "integer or null") }
        switch (row[index] as DatabaseValue).storage {
        case .null: return nil
        case .int64(let value): return value
        default: throw Self.bad(name, "integer or null")
        }
    }

    func bool(_ name: String) throws -> Bool { try int(name) != 0 }

    private static func bad(_ name: String, _ expected: String) -> StoreError {
        StoreError.unavailable("column \(name) is missing or not \(expected)")
    }
}

// MARK: Records (shared with the other stores: `HostRow`, `SessionRow`, `ClaimedHost`)

extension HostRow {
    static func record(_ row: Row) throws -> HostRecord { try record(Columns(row)) }
}

extension SessionRow {
    init(_ row: Row) throws { try self.init(Columns(row)) }
}

extension ClaimedHost {
    init(_ row: Row) throws { try self.init(Columns(row)) }
}

// MARK: Candidate hosts

/// The statement part that picks the live host for a request (SPEC §2): a host that declared a
/// sandbox, cloud game or game mode serves only requests with the same value
/// (`TitleRules.matchKey`), one that declared none serves any; with locations, only hosts whose
/// region has one of their `TitleRules.locationKey`s, tried strictly in order; a draining host
/// never. Inside one location, `.distributed` takes the longest-StandingBy host; `.packed` first
/// the host whose VM has the most hosts holding a session (`vm_busy`, see `recountVM`), then the
/// longest-StandingBy. Each order has its partial index, so a claim reads the first entry that
/// passes the filter instead of sorting the free hosts.
struct CandidateQuery {
    /// `SELECT host_id … LIMIT 1`, to be used as a scalar subquery.
    var sql: String
    var arguments: StatementArguments

    /// Hosts in `excluding` are passed over (a JSON array read with `json_each`).
    init(
        titleId: String, criteria: HostCriteria, liveSince: Date, excluding: [String] = [],
        strategy: AllocationStrategy = .packed
    ) throws {
        var filter = """
            title_id = ? AND state = 'StandingBy' AND session_id IS NULL AND last_heartbeat_ms >= ? \
            AND (sandbox_key IS NULL OR sandbox_key = ?) AND (cloud_game_key IS NULL OR cloud_game_key = ?) \
            AND (game_mode_key IS NULL OR game_mode_key = ?) AND drain_deadline_ms IS NULL
            """
        var filterArguments: StatementArguments = [
            titleId, liveSince.storeArgument, TitleRules.matchKey(criteria.sandboxId),
            TitleRules.matchKey(criteria.cloudGameId), TitleRules.matchKey(criteria.gameModeId),
        ]
        if !excluding.isEmpty {
            filter += " AND host_id NOT IN (SELECT value FROM json_each(?))"
            let list: String
            do {
                list = String(decoding: try JSONEncoder().encode(excluding), as: UTF8.self)
            } catch {
                throw StoreError.unavailable("cannot encode the excluded hosts: \(error)")
            }
            filterArguments += [list]
        }
        let order =
            switch strategy {
            case .distributed: "ORDER BY standing_by_since_ms, host_id LIMIT 1"
            case .packed: "ORDER BY vm_busy DESC, standing_by_since_ms, host_id LIMIT 1"
            }
        if criteria.locations.isEmpty {
            sql = "SELECT host_id FROM hosts AS candidate WHERE \(filter) \(order)"
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
            "SELECT * FROM (SELECT host_id, \(index) AS preference FROM hosts AS candidate WHERE \(filter) AND region_key = ? \(order))"
        }
        sql = "SELECT host_id FROM (\(probes.joined(separator: " UNION ALL "))) ORDER BY preference LIMIT 1"
        arguments = StatementArguments()
        for key in keys { arguments += filterArguments + [key] }
    }
}
