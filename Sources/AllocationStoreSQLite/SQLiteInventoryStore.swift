public import AllocationStore
import FoundationEssentials
public import Logging
import SQLiteNIO

/// The embedded inventory (SPEC §4: gsmsd's default `--database`): one SQLite file in WAL mode
/// with `synchronous=FULL`, so a committed allocation survives a SIGKILL or a power cut.
///
/// One connection does all the work. Each `InventoryStore` method is one transaction
/// (`BEGIN IMMEDIATE` … `COMMIT`, `ROLLBACK` on any error; a lone `SELECT` runs as its own
/// implicit transaction), and calls are served one at a time in arrival order, so the statements
/// of two calls never interleave. Every SQLite failure surfaces as `StoreError.unavailable`.
public actor SQLiteInventoryStore: InventoryStore {
    private var connection: SQLiteConnection?
    let logger: Logger

    // A first-in first-out gate: an actor alone lets another call in at every `await`.
    private var gateBusy = false
    private var gateWaiters: [CheckedContinuation<Void, Never>] = []
    private var gateNext = 0

    private init(connection: SQLiteConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    deinit {
        // Not closed by its owner: close anyway (the future keeps the connection until done).
        if let connection, !connection.isClosed {
            _ = connection.close()
        }
    }

    /// Opens (creating if need be) the database file at `path`, sets it up and applies the
    /// schema migrations it lacks. Throws `StoreError.schemaTooNew` for a file written by a
    /// newer gsmsd and `StoreError.unavailable` when the file cannot be used.
    public static func open(path: String, logger: Logger) async throws -> SQLiteInventoryStore {
        try await open(path: path, logger: logger, migrations: SchemaMigrations.all)
    }

    /// `open(path:logger:)` with a chosen list of migrations (tests).
    static func open(path: String, logger: Logger, migrations: [SchemaMigration]) async throws -> SQLiteInventoryStore {
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        } catch {
            throw StoreError.unavailable("cannot open the database \(path): \(error)")
        }
        do {
            try await configure(connection, logger: logger)
            _ = try await SchemaMigrations.apply(migrations, on: connection, at: Date(), logger: logger)
        } catch {
            do {
                try await connection.close()
            } catch let closeError {
                logger.warning("closing the database failed", metadata: ["error": "\(closeError)"])
            }
            throw storeError(error)
        }
        return SQLiteInventoryStore(connection: connection, logger: logger)
    }

    private static func configure(_ db: SQLiteConnection, logger: Logger) async throws {
        let mode = try await db.query("PRAGMA journal_mode = WAL").first.flatMap { $0.columns.first?.data.string }
        if mode?.lowercased() != "wal" {
            logger.warning("the database is not in WAL mode", metadata: ["journal_mode": "\(mode ?? "unknown")"])
        }
        _ = try await db.query("PRAGMA synchronous = FULL")
        _ = try await db.query("PRAGMA foreign_keys = ON")
        _ = try await db.query("PRAGMA busy_timeout = 5000")
    }

    /// Closes the database; no call may follow (later calls throw `StoreError.unavailable`).
    public func close() async throws {
        await acquire()
        defer { release() }
        guard let connection else { return }
        self.connection = nil
        do {
            try await connection.close()
        } catch {
            throw Self.storeError(error)
        }
    }

    /// The schema versions recorded in the file (tests and diagnostics).
    func appliedSchemaVersions() async throws -> [Int] {
        try await read { db in try await SchemaMigrations.appliedVersions(db) }
    }

    // MARK: Transactions

    /// Runs `body` as one write transaction: `BEGIN IMMEDIATE`, then `COMMIT`, or `ROLLBACK` when
    /// anything throws. Calls are served one at a time.
    func write<T: Sendable>(_ body: (SQLiteConnection) async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        guard let connection else { throw StoreError.unavailable("the store is closed") }
        do {
            _ = try await connection.query("BEGIN IMMEDIATE")
        } catch {
            throw Self.storeError(error)
        }
        do {
            let result = try await body(connection)
            _ = try await connection.query("COMMIT")
            return result
        } catch {
            do {
                _ = try await connection.query("ROLLBACK")
            } catch let rollbackError {
                logger.error("rollback failed", metadata: ["error": "\(rollbackError)", "cause": "\(error)"])
            }
            throw Self.storeError(error)
        }
    }

    /// Runs `body`, a single read statement (its own implicit transaction), in turn with writes.
    func read<T: Sendable>(_ body: (SQLiteConnection) async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        guard let connection else { throw StoreError.unavailable("the store is closed") }
        do {
            return try await body(connection)
        } catch {
            throw Self.storeError(error)
        }
    }

    static func storeError(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? SQLiteError { return .unavailable("SQLite: \(error.description)") }
        return .unavailable("\(error)")
    }

    private func acquire() async {
        if !gateBusy {
            gateBusy = true
            return
        }
        await withCheckedContinuation { gateWaiters.append($0) }
    }

    private func release() {
        guard gateNext < gateWaiters.count else {
            gateWaiters.removeAll(keepingCapacity: true)
            gateNext = 0
            gateBusy = false
            return
        }
        let next = gateWaiters[gateNext]
        gateNext += 1
        if gateNext >= 64, gateNext * 2 >= gateWaiters.count {
            gateWaiters.removeFirst(gateNext)
            gateNext = 0
        }
        // The gate passes straight to the next caller: it stays busy.
        next.resume()
    }
}
