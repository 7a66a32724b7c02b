import AllocationStore
import FoundationEssentials
import Logging
import PostgresNIO

/// One step of the schema: its version and the statements that take the previous version to it.
struct PostgresSchemaMigration: Sendable {
    var version: Int
    /// Run in order inside one transaction.
    var statements: [String]
}

/// The versioned schema of the shared store, the same tables as the embedded one. The database
/// records the versions it has in `schema_migrations`; opening applies the missing ones in
/// order, one transaction each under an advisory lock (so several gsmsd instances starting at
/// once apply each version once), and refuses a database whose version is above the newest this
/// build knows.
enum PostgresSchemaMigrations {
    /// Every migration, in version order. Never edit a released one: append a new version.
    static let all: [PostgresSchemaMigration] = [version1, version2, version3, version4, version5]

    /// The newest version this build knows.
    static var newestVersion: Int { all.last?.version ?? 0 }

    /// Serializes migrations of one database across instances.
    static let lockKey: Int64 = 0x5345_5353_494F_4E01

    /// Version 2: the key each host id is bound to (`InventoryStore.checkHostKey`), as in the
    /// embedded store's version 2. `key_digest` is the SHA-256 of the key, hex.
    static let version2 = PostgresSchemaMigration(
        version: 2,
        statements: [
            """
            CREATE TABLE host_keys (
                host_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
                key_digest TEXT NOT NULL,
                bound_at_ms BIGINT NOT NULL
            )
            """
        ])

    /// Version 3: each host's assignment revision, as in the embedded store's version 3.
    static let version3 = PostgresSchemaMigration(
        version: 3,
        statements: [
            "ALTER TABLE hosts ADD COLUMN revision BIGINT NOT NULL DEFAULT 0"
        ])

    /// Version 4: the VM each host runs on, as in the embedded store's version 4: rows of older
    /// databases take their host id (VMs of their own), then the column is NOT NULL.
    static let version4 = PostgresSchemaMigration(
        version: 4,
        statements: [
            "ALTER TABLE hosts ADD COLUMN vm_id TEXT COLLATE \"C\"",
            "UPDATE hosts SET vm_id = host_id",
            "ALTER TABLE hosts ALTER COLUMN vm_id SET NOT NULL",
            "CREATE INDEX hosts_vm_busy ON hosts (vm_id) WHERE session_id IS NOT NULL",
        ])

    /// Version 5: drains and what agents report of their games, as in the embedded store's
    /// version 5 (`drained` is a boolean here; `players` JSON text, read as `jsonb`).
    static let version5 = PostgresSchemaMigration(
        version: 5,
        statements: [
            """
            ALTER TABLE hosts ADD COLUMN drain_deadline_ms BIGINT, ADD COLUMN drain_source TEXT,
                ADD COLUMN drain_reason TEXT, ADD COLUMN drained BOOLEAN NOT NULL DEFAULT false,
                ADD COLUMN players TEXT
            """,
            """
            CREATE TABLE drain_scopes (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                title_id TEXT COLLATE "C",
                region_key TEXT COLLATE "C",
                vm_id TEXT COLLATE "C",
                deadline_ms BIGINT NOT NULL,
                source TEXT NOT NULL,
                reason TEXT,
                created_ms BIGINT NOT NULL
            )
            """,
            "CREATE INDEX drain_scopes_deadline ON drain_scopes (deadline_ms)",
        ])

    /// Version 1: hosts, sessions and the cluster queue, as in the embedded store's version 1.
    ///
    /// Identifiers compare and sort bytewise (`COLLATE "C"`), as in SQLite, whatever the
    /// database's collation. `cluster_queue.seq` comes from `cluster_queue_tail` (ascending) for
    /// new tickets and from `cluster_queue_head` (descending, negative) for a ticket put back
    /// after a failed hand-off, which so sorts before every other ticket of the same queue time
    /// without a lock on the queue. Times are integer milliseconds since 1970.
    static let version1 = PostgresSchemaMigration(
        version: 1,
        statements: [
            """
            CREATE TABLE hosts (
                host_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
                title_id TEXT COLLATE "C" NOT NULL,
                region TEXT NOT NULL,
                region_key TEXT COLLATE "C" NOT NULL,
                host_name TEXT NOT NULL,
                port_mappings TEXT NOT NULL,
                secure_context TEXT NOT NULL,
                sandbox_id TEXT,
                sandbox_key TEXT COLLATE "C",
                cloud_game_id TEXT,
                cloud_game_key TEXT COLLATE "C",
                game_mode_id TEXT,
                game_mode_key TEXT COLLATE "C",
                state TEXT NOT NULL CHECK (state IN ('Initializing', 'StandingBy', 'Allocating', 'Active', 'Terminating', 'Unhealthy')),
                session_id TEXT COLLATE "C",
                last_heartbeat_ms BIGINT NOT NULL,
                standing_by_since_ms BIGINT,
                health TEXT NOT NULL CHECK (health IN ('Healthy', 'Unhealthy')),
                registered_state TEXT NOT NULL
            )
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
                title_id TEXT COLLATE "C" NOT NULL,
                session_id TEXT COLLATE "C" NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('sessionHost', 'cluster')),
                state TEXT NOT NULL CHECK (state IN ('Allocating', 'Active')),
                host_id TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES hosts (host_id),
                session_cookie TEXT,
                allocated_at_ms BIGINT NOT NULL,
                acknowledge_by_ms BIGINT NOT NULL,
                enqueued_at_ms BIGINT,
                host_name TEXT NOT NULL,
                region TEXT NOT NULL,
                port_mappings TEXT NOT NULL,
                secure_context TEXT NOT NULL,
                PRIMARY KEY (title_id, session_id)
            )
            """,
            "CREATE INDEX sessions_pending ON sessions (acknowledge_by_ms) WHERE state = 'Allocating'",
            "CREATE SEQUENCE cluster_queue_tail AS BIGINT START WITH 1 INCREMENT BY 1",
            "CREATE SEQUENCE cluster_queue_head AS BIGINT START WITH -1 INCREMENT BY -1",
            """
            CREATE TABLE cluster_queue (
                seq BIGINT NOT NULL PRIMARY KEY DEFAULT nextval('cluster_queue_tail'),
                title_id TEXT COLLATE "C" NOT NULL,
                session_id TEXT COLLATE "C" NOT NULL,
                enqueued_at_ms BIGINT NOT NULL,
                last_polled_at_ms BIGINT NOT NULL,
                UNIQUE (title_id, session_id)
            )
            """,
            "CREATE INDEX cluster_queue_order ON cluster_queue (title_id, enqueued_at_ms, seq)",
            "CREATE INDEX cluster_queue_polled ON cluster_queue (last_polled_at_ms)",
        ])

    /// Applies the migrations the database does not have yet, each in its own transaction under
    /// the migration lock. Returns the versions applied now. Throws `StoreError.schemaTooNew`
    /// when the database is newer than the newest of `migrations`.
    static func apply(
        _ migrations: [PostgresSchemaMigration], on connection: PostgresConnection, at now: Date, logger: Logger
    ) async throws -> [Int] {
        let ordered = migrations.sorted { $0.version < $1.version }
        let newest = ordered.last?.version ?? 0
        var applied: [Int] = []
        for migration in ordered {
            try await connection.query("BEGIN", logger: logger)
            do {
                try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
                try await connection.query(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                    logger: logger)
                let found = try await versions(connection, logger: logger)
                if let highest = found.last, highest > newest {
                    throw StoreError.schemaTooNew(found: highest, known: newest)
                }
                if !found.contains(migration.version) {
                    for statement in migration.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query(
                        "INSERT INTO schema_migrations (version, applied_at) VALUES (\(migration.version), \(now.milliseconds))",
                        logger: logger)
                    applied.append(migration.version)
                }
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
        return applied
    }

    /// The versions recorded in the database, ascending.
    static func versions(_ connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        let rows = try await connection.query("SELECT version FROM schema_migrations ORDER BY version", logger: logger)
            .collect()
        return try rows.map { Int(try Columns($0).int("version")) }
    }
}
