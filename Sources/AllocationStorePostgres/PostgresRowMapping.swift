import AllocationStore
import FoundationEssentials
import PostgresNIO
import SessionHostModel

// MARK: Values

extension Date {
    /// Whole milliseconds since 1970, as stored: the same as the embedded store, so both give
    /// back the same dates.
    var milliseconds: Int64 { storeMilliseconds }
}

/// The raw column reads of a PostgreSQL row (`StoreColumns` adds the typed ones).
struct Columns: StoreColumns {
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

// MARK: Records (shared with the other stores: `HostRow`, `SessionRow`, `ClaimedHost`)

extension HostRow {
    static func record(_ row: PostgresRow) throws -> HostRecord { try record(Columns(row)) }
}

extension SessionRow {
    init(_ row: PostgresRow) throws { try self.init(Columns(row)) }
}

extension ClaimedHost {
    init(_ row: PostgresRow) throws { try self.init(Columns(row)) }
}
