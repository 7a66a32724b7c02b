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
    /// A statement reading candidate ids in the strategy's order.
    struct Probe {
        var sql: String
        var arguments: StatementArguments
    }

    /// One probe per location key, in the request's order, or one when the request names no
    /// location; none when every location is blank.
    var probes: [Probe]
    /// Hosts passed over (their hand-off channel is down).
    var excluding: Set<String>

    /// Each probe reads at most `excluding.count + 1` hosts, and `first` stops at the first one
    /// not excluded: the excluded hosts cost a set lookup each when they come first in the
    /// order, and nothing otherwise (they are not sent to SQLite).
    init(
        titleId: String, criteria: HostCriteria, liveSince: Date, excluding: Set<String> = [],
        strategy: AllocationStrategy = .packed
    ) {
        self.excluding = excluding
        let filter = """
            title_id = ? AND state = 'StandingBy' AND session_id IS NULL AND last_heartbeat_ms >= ? \
            AND (sandbox_key IS NULL OR sandbox_key = ?) AND (cloud_game_key IS NULL OR cloud_game_key = ?) \
            AND (game_mode_key IS NULL OR game_mode_key = ?) AND drain_deadline_ms IS NULL
            """
        let filterArguments: StatementArguments = [
            titleId, liveSince.storeArgument, TitleRules.matchKey(criteria.sandboxId),
            TitleRules.matchKey(criteria.cloudGameId), TitleRules.matchKey(criteria.gameModeId),
        ]
        let order =
            switch strategy {
            case .distributed: "ORDER BY standing_by_since_ms, host_id LIMIT ?"
            case .packed: "ORDER BY vm_busy DESC, standing_by_since_ms, host_id LIMIT ?"
            }
        let limit: StatementArguments = [excluding.count + 1]
        if criteria.locations.isEmpty {
            probes = [
                Probe(
                    sql: "SELECT host_id FROM hosts AS candidate WHERE \(filter) \(order)",
                    arguments: filterArguments + limit)
            ]
            return
        }
        var keys: [String] = []
        for location in criteria.locations {
            let key = TitleRules.locationKey(location)
            if !key.isEmpty, !keys.contains(key) { keys.append(key) }
        }
        // One index-ordered probe per location; the first location with a host wins.
        probes = keys.map { key in
            Probe(
                sql: "SELECT host_id FROM hosts AS candidate WHERE \(filter) AND region_key = ? \(order)",
                arguments: filterArguments + [key] + limit)
        }
    }

    /// The first candidate of the first probe that has one, passing over `excluding`.
    func first(_ db: Database) throws -> String? {
        for probe in probes {
            let ids = try String.fetchCursor(db.cachedStatement(sql: probe.sql), arguments: probe.arguments)
            while let hostId = try ids.next() {
                if !excluding.contains(hostId) { return hostId }
            }
        }
        return nil
    }
}
