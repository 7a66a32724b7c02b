import AllocationStore
import FoundationEssentials
import Logging
import SQLiteNIO

/// One step of the schema: its version and the statements that take the previous version to it.
struct SchemaMigration: Sendable {
    var version: Int
    /// Run in order inside one transaction (sqlite-nio runs one statement per call).
    var statements: [String]
}

/// The versioned schema of the embedded store. The file records the versions it has in
/// `schema_migrations`; opening applies the missing ones in order, one transaction each, and
/// refuses a file whose version is above the newest this build knows.
enum SchemaMigrations {
    /// Every migration, in version order. Never edit a released one: append a new version.
    static let all: [SchemaMigration] = [version1]

    /// The newest version this build knows.
    static var newestVersion: Int { all.last?.version ?? 0 }

    /// Version 1: hosts, sessions and the cluster queue.
    ///
    /// - `hosts` keeps the registration as given (`region`, `sandbox_id`…) next to the forms it is
    ///   matched in (`region_key` = `TitleRules.locationKey`, `*_key` = `TitleRules.matchKey`).
    ///   `session_id` mirrors `sessions.host_id` so that free hosts are found through one partial
    ///   index, ordered by how long they have been StandingBy.
    /// - `sessions` holds Allocating and Active allocations with a copy of the host's public
    ///   description taken when allocated; `host_id` is unique: a host holds at most one session.
    /// - `cluster_queue` is served per title by `(enqueued_at_ms, seq)`: a ticket put back after a
    ///   failed hand-off keeps its first queue time and takes a `seq` below every other, so it is
    ///   back at the head even among tickets queued in the same millisecond.
    ///
    /// Times are integer milliseconds since 1970.
    static let version1 = SchemaMigration(version: 1, statements: [
        """
        CREATE TABLE hosts (
            host_id TEXT NOT NULL PRIMARY KEY,
            title_id TEXT NOT NULL,
            region TEXT NOT NULL,
            region_key TEXT NOT NULL,
            host_name TEXT NOT NULL,
            port_mappings TEXT NOT NULL,
            secure_context TEXT NOT NULL,
            sandbox_id TEXT,
            sandbox_key TEXT,
            cloud_game_id TEXT,
            cloud_game_key TEXT,
            game_mode_id TEXT,
            game_mode_key TEXT,
            state TEXT NOT NULL CHECK (state IN ('Initializing', 'StandingBy', 'Allocating', 'Active', 'Terminating', 'Unhealthy')),
            session_id TEXT,
            last_heartbeat_ms INTEGER NOT NULL,
            standing_by_since_ms INTEGER,
            health TEXT NOT NULL CHECK (health IN ('Healthy', 'Unhealthy')),
            registered_state TEXT NOT NULL
        ) STRICT
        """,
        """
        CREATE INDEX hosts_standing_by ON hosts (title_id, standing_by_since_ms, host_id)
        WHERE state = 'StandingBy' AND session_id IS NULL
        """,
        """
        CREATE INDEX hosts_standing_by_region ON hosts (title_id, region_key, standing_by_since_ms, host_id)
        WHERE state = 'StandingBy' AND session_id IS NULL
        """,
        "CREATE INDEX hosts_last_heartbeat ON hosts (last_heartbeat_ms)",
        """
        CREATE TABLE sessions (
            title_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('sessionHost', 'cluster')),
            state TEXT NOT NULL CHECK (state IN ('Allocating', 'Active')),
            host_id TEXT NOT NULL UNIQUE REFERENCES hosts (host_id),
            session_cookie TEXT,
            allocated_at_ms INTEGER NOT NULL,
            acknowledge_by_ms INTEGER NOT NULL,
            enqueued_at_ms INTEGER,
            host_name TEXT NOT NULL,
            region TEXT NOT NULL,
            port_mappings TEXT NOT NULL,
            secure_context TEXT NOT NULL,
            PRIMARY KEY (title_id, session_id)
        ) STRICT
        """,
        "CREATE INDEX sessions_pending ON sessions (acknowledge_by_ms) WHERE state = 'Allocating'",
        """
        CREATE TABLE cluster_queue (
            seq INTEGER PRIMARY KEY,
            title_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            enqueued_at_ms INTEGER NOT NULL,
            last_polled_at_ms INTEGER NOT NULL,
            UNIQUE (title_id, session_id)
        ) STRICT
        """,
        "CREATE INDEX cluster_queue_order ON cluster_queue (title_id, enqueued_at_ms, seq)",
        "CREATE INDEX cluster_queue_polled ON cluster_queue (last_polled_at_ms)",
    ])

    /// Applies the migrations the file does not have yet, each in its own `BEGIN IMMEDIATE`
    /// transaction (so two processes opening one file at once apply each version once).
    /// Returns the versions applied now. Throws `StoreError.schemaTooNew` when the file is newer
    /// than the newest of `migrations`.
    static func apply(_ migrations: [SchemaMigration], on db: SQLiteConnection, at now: Date, logger: Logger) async throws -> [Int] {
        let ordered = migrations.sorted { $0.version < $1.version }
        let newest = ordered.last?.version ?? 0
        _ = try await db.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        try await checkNotTooNew(db, known: newest)
        var applied: [Int] = []
        for migration in ordered {
            _ = try await db.query("BEGIN IMMEDIATE")
            do {
                try await checkNotTooNew(db, known: newest)
                let present = try await db.query("SELECT 1 FROM schema_migrations WHERE version = ?", [.integer(SQLiteInt64(migration.version))])
                if present.isEmpty {
                    for statement in migration.statements {
                        _ = try await db.query(statement)
                    }
                    _ = try await db.query(
                        "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                        [.integer(SQLiteInt64(migration.version)), .milliseconds(now)]
                    )
                    applied.append(migration.version)
                }
                _ = try await db.query("COMMIT")
            } catch {
                do {
                    _ = try await db.query("ROLLBACK")
                } catch let rollbackError {
                    logger.error("rollback of schema migration failed", metadata: ["version": "\(migration.version)", "error": "\(rollbackError)"])
                }
                throw error
            }
            if applied.last == migration.version {
                logger.info("applied schema migration", metadata: ["version": "\(migration.version)"])
            }
        }
        return applied
    }

    /// The versions recorded in the file, ascending.
    static func appliedVersions(_ db: SQLiteConnection) async throws -> [Int] {
        try await db.query("SELECT version FROM schema_migrations ORDER BY version").map { row in
            Int(try Columns(row).int("version"))
        }
    }

    private static func checkNotTooNew(_ db: SQLiteConnection, known: Int) async throws {
        let rows = try await db.query("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations")
        let found = try rows.first.map { Int(try Columns($0).int("version")) } ?? 0
        if found > known {
            throw StoreError.schemaTooNew(found: found, known: known)
        }
    }
}
