public import AllocationStore
import FoundationEssentials
import GRDB
#if canImport(Glibc)
import Glibc
#endif
public import Logging

/// The embedded inventory (SPEC §4: gsmsd's default `--database`): one SQLite file in WAL mode
/// with `synchronous=FULL`, so a committed allocation survives a SIGKILL or a power cut.
///
/// One connection does all the work, on SQLite's own thread (GRDB's serial queue). Each
/// `InventoryStore` method is one closure of synchronous statements, compiled once and cached,
/// run in its own savepoint; calls that arrive together share one `BEGIN IMMEDIATE` … `COMMIT`
/// and its fsync, and each caller is answered only after that commit (`GroupCommitWriter`).
/// Calls are served in arrival order, so the statements of two calls never interleave. Every
/// SQLite failure surfaces as `StoreError.unavailable`.
public final class SQLiteInventoryStore: InventoryStore {
    private let writer: GroupCommitWriter
    let logger: Logger

    private init(writer: GroupCommitWriter, logger: Logger) {
        self.writer = writer
        self.logger = logger
    }

    /// Opens (creating if need be) the database file at `path`, sets it up and applies the
    /// schema migrations it lacks. Throws `StoreError.schemaTooNew` for a file written by a
    /// newer gsmsd and `StoreError.unavailable` when the file cannot be used.
    public static func open(path: String, logger: Logger) async throws -> SQLiteInventoryStore {
        try await open(path: path, logger: logger, migrations: SchemaMigrations.all)
    }

    /// `open(path:logger:)` with a chosen list of migrations (tests).
    static func open(path: String, logger: Logger, migrations: [SchemaMigration]) async throws -> SQLiteInventoryStore {
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(5)
        configuration.label = "gsmsd.inventory"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        let database: DatabaseQueue
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw StoreError.unavailable(
                "cannot open the database \(path): \(Self.describe(error))\(Self.directoryProblem(of: path))")
        }
        do {
            let applied = try await database.writeWithoutTransaction { db in
                try SchemaMigrations.apply(migrations, on: db, at: Date())
            }
            for version in applied {
                logger.info("applied schema migration", metadata: ["version": "\(version)"])
            }
        } catch {
            do {
                try database.close()
            } catch let closeError {
                logger.warning("closing the database failed", metadata: ["error": "\(closeError)"])
            }
            throw storeError(error)
        }
        return SQLiteInventoryStore(writer: GroupCommitWriter(database: database), logger: logger)
    }

    /// Why the database's directory cannot be written, if it cannot ("; /dir: Read-only file
    /// system"), to say more than SQLite's "unable to open database file".
    static func directoryProblem(of path: String) -> String {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        guard access(directory.isEmpty ? "/" : directory, W_OK) != 0 else { return "" }
        return "; \(directory): \(String(cString: strerror(errno)))"
    }

    /// Closes the database after the calls already made; later calls throw
    /// `StoreError.unavailable`.
    public func close() async throws {
        do {
            try await writer.close()
        } catch {
            throw Self.storeError(error)
        }
    }

    /// The schema versions recorded in the file (tests and diagnostics).
    func appliedSchemaVersions() async throws -> [Int] {
        try await read { db in try SchemaMigrations.appliedVersions(db) }
    }

    // MARK: Transactions

    /// Runs `body` as one call of the group commit: all of it or, when it throws, none of it;
    /// answered after the commit.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.write(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs `body`, which only reads, in turn with the writes.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await write(body)
    }

    static func storeError(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        return .unavailable(describe(error))
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return "SQLite: \(error.message ?? "error \(error.resultCode.rawValue)")"
        }
        return "\(error)"
    }
}
