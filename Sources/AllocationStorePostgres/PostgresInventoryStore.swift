public import AllocationStore
import FoundationEssentials
public import Logging
import PostgresNIO
import Synchronization

/// The shared inventory (SPEC §4: `--database postgres://…`): several gsmsd instances over one
/// PostgreSQL database, with the semantics of the embedded store.
///
/// Every `InventoryStore` method is one transaction on a connection of a `PostgresClient` pool,
/// at READ COMMITTED with explicit locks:
/// - a host is claimed with `FOR UPDATE SKIP LOCKED`, so concurrent claims from any instance take
///   different hosts without queueing behind each other (when every candidate is locked, the
///   claim waits for them once rather than answer `noHost` while a host may still be free);
/// - operations on one host (heartbeat, acknowledgement, end, reassignment, sweep) lock its row
///   first and read its session after, so none works from a stale view;
/// - operations on one session id take a transaction advisory lock on it, so one session id is
///   never placed twice; serving a title's queue takes one on the queue (first in, first out
///   across instances); sweeps take one so that one instance sweeps at a time.
/// Deadlocks and serialization failures are retried; everything else is `StoreError`.
///
/// The pool's background work runs from `open` until `close`.
public final class PostgresInventoryStore: InventoryStore {
    let client: PostgresClient
    let logger: Logger
    private let pool: Task<Void, Never>

    private init(client: PostgresClient, pool: Task<Void, Never>, logger: Logger) {
        self.client = client
        self.pool = pool
        self.logger = logger
    }

    /// Connects, applies the schema migrations the database lacks and returns the store. Throws
    /// `StoreError.schemaTooNew` for a database written by a newer gsmsd and
    /// `StoreError.unavailable` when the server cannot be reached or used.
    public static func open(_ configuration: PostgresStoreConfiguration, logger: Logger) async throws
        -> PostgresInventoryStore
    {
        try await open(configuration, logger: logger, migrations: PostgresSchemaMigrations.all)
    }

    /// `open(_:logger:)` with a chosen list of migrations (tests).
    static func open(
        _ configuration: PostgresStoreConfiguration, logger: Logger, migrations: [PostgresSchemaMigration]
    ) async throws -> PostgresInventoryStore {
        // The schema first, on a connection of its own: an unreachable server or a refused login
        // fails here at once with the server's reason (the pool would keep retrying).
        do {
            let connection = try await PostgresConnection.connect(
                configuration: try configuration.connectionConfiguration(), id: 0, logger: logger)
            do {
                let applied = try await PostgresSchemaMigrations.apply(
                    migrations, on: connection, at: Date(), logger: logger)
                for version in applied {
                    logger.info("applied schema migration", metadata: ["version": "\(version)"])
                }
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        } catch {
            throw storeError(error, context: "cannot open the database \(configuration.redactedDescription)")
        }
        let client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
        let pool = Task { await client.run() }
        let store = PostgresInventoryStore(client: client, pool: pool, logger: logger)
        return store
    }

    /// Closes the pool after the calls already made; later calls throw `StoreError.unavailable`.
    public func close() async throws {
        pool.cancel()
        await pool.value
    }

    /// The schema versions recorded in the database (tests and diagnostics).
    func appliedSchemaVersions() async throws -> [Int] {
        try await transaction { connection in
            try await PostgresSchemaMigrations.versions(connection, logger: self.logger)
        }
    }

    /// Sends `payload` on `channel` to every listening session (NOTIFY), outside any transaction.
    public func notify(channel: String, payload: String) async throws {
        do {
            try await leased { connection in
                try await self.run(connection, "SELECT pg_notify(\(channel), \(payload))")
            }
        } catch {
            throw Self.storeError(error, context: "NOTIFY failed")
        }
    }

    // MARK: Transactions

    /// Runs `body` in one transaction: all of it or, when it throws, none of it. Deadlocks and
    /// serialization failures, which PostgreSQL raises before anything is committed, are retried.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T
    {
        var attempt = 1
        while true {
            do {
                return try await leased { connection in
                    try await connection.query("BEGIN", logger: self.logger)
                    do {
                        let result = try await body(connection)
                        try await connection.query("COMMIT", logger: self.logger)
                        return result
                    } catch {
                        _ = try? await connection.query("ROLLBACK", logger: self.logger)
                        throw error
                    }
                }
            } catch let error where attempt < Self.attempts && Self.isTransient(error) {
                logger.debug(
                    "retrying a transaction", metadata: ["attempt": "\(attempt)", "error": "\(Self.describe(error))"])
                attempt += 1
            } catch {
                throw Self.storeError(error, context: nil)
            }
        }
    }

    /// Runs `body`, which only reads with single statements, on a pooled connection outside any
    /// explicit transaction.
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await leased(body)
        } catch {
            throw Self.storeError(error, context: nil)
        }
    }

    /// How long a call waits for a pooled connection before it fails: while the server is
    /// unreachable, the pool would otherwise hold it until its circuit breaker trips (a minute).
    static let leaseTimeout: Duration = .seconds(5)

    /// Runs `body` on a pooled connection; `StoreError.unavailable` when none is leased within
    /// `leaseTimeout`. Only the wait for the lease is bounded: once `body` runs, it finishes.
    private func leased<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws
        -> T
    {
        let gotConnection = LeaseFlag()
        return try await withThrowingTaskGroup(of: LeaseOutcome<T>.self) { group in
            group.addTask {
                .done(
                    try await self.client.withConnection { connection in
                        gotConnection.value.store(true, ordering: .relaxed)
                        return try await body(connection)
                    })
            }
            group.addTask {
                try? await Task.sleep(for: Self.leaseTimeout)
                return .timerFired
            }
            while let outcome = try await group.next() {
                switch outcome {
                case .done(let value):
                    group.cancelAll()
                    return value
                case .timerFired where !gotConnection.value.load(ordering: .relaxed):
                    group.cancelAll()
                    throw StoreError.unavailable("no connection to the database within \(Self.leaseTimeout)")
                case .timerFired:
                    continue
                }
            }
            throw StoreError.unavailable("the database call ended without an answer")
        }
    }

    /// The rows of `query`.
    func rows(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> [PostgresRow] {
        try await connection.query(query, logger: logger).collect()
    }

    /// Runs `query`, ignoring any rows.
    func run(_ connection: PostgresConnection, _ query: PostgresQuery) async throws {
        _ = try await connection.query(query, logger: logger).collect()
    }

    /// Holds the advisory lock named `key` until the transaction ends.
    func lock(_ connection: PostgresConnection, _ key: String) async throws {
        try await run(connection, "SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))")
    }

    /// The advisory lock of one session id.
    static func sessionLock(titleId: String, sessionId: String) -> String { "session/\(titleId)/\(sessionId)" }

    /// The advisory lock of a title's cluster queue.
    static func queueLock(titleId: String) -> String { "queue/\(titleId)" }

    private static let attempts = 8

    /// Deadlock (40P01) or serialization failure (40001).
    private static func isTransient(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40P01" || state == "40001"
    }

    static func storeError(_ error: any Error, context: String?) -> StoreError {
        if let error = error as? StoreError { return error }
        let message = describe(error)
        return .unavailable(context.map { "\($0): \(message)" } ?? message)
    }

    /// What went wrong, in words (the server's message, never the statement or its arguments).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let info = error.serverInfo, let message = info[.message] {
                return "PostgreSQL: \(message) (\(info[.sqlState] ?? "?"))"
            }
            return "PostgreSQL: \(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
        }
        return "\(error)"
    }
}

/// What finished first while waiting for a pooled connection.
private enum LeaseOutcome<T: Sendable>: Sendable {
    case done(T)
    case timerFired
}

/// Set once a pooled connection was leased.
private final class LeaseFlag: Sendable {
    let value = Atomic<Bool>(false)
}
