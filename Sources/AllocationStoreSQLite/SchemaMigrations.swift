import AllocationStore
import FoundationEssentials
import GRDB

/// One step of the schema: its version and the statements that take the previous version to it.
struct SchemaMigration: Sendable {
    var version: Int
    /// Run in order inside one transaction.
    var statements: [String]
}

/// The versioned schema of the embedded store. The file records the versions it has in
/// `schema_migrations`; opening applies the missing ones in order, one transaction each, and
/// refuses a file whose version is above the newest this build knows.
enum SchemaMigrations {
    /// Every migration, in version order. Never edit a released one: append a new version.
    static let all: [SchemaMigration] = [version1, version2, version3, version4, version5, version6]

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
    static let version1 = SchemaMigration(
        version: 1,
        statements: [
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

    /// Version 2: the key each host id is bound to (`InventoryStore.checkHostKey`), kept apart
    /// from `hosts` because a key is bound by the first registration call, before the host row
    /// exists. `key_digest` is the SHA-256 of the key, hex; the key itself is never stored.
    static let version2 = SchemaMigration(
        version: 2,
        statements: [
            """
            CREATE TABLE host_keys (
                host_id TEXT NOT NULL PRIMARY KEY,
                key_digest TEXT NOT NULL,
                bound_at_ms INTEGER NOT NULL
            ) STRICT
            """
        ])

    /// Version 3: each host's assignment revision (`AssignmentRevision`), carried by every answer
    /// to its agent. Hosts of older files start at 0; their next change takes the clock's value.
    static let version3 = SchemaMigration(
        version: 3,
        statements: [
            "ALTER TABLE hosts ADD COLUMN revision INTEGER NOT NULL DEFAULT 0"
        ])

    /// Version 4: the VM each host runs on (`HostRegistration.vmId`, else the host's own id), for
    /// the packed allocation strategy, which counts the hosts holding a session per VM through
    /// `hosts_vm_busy`. Hosts of older files are VMs of their own. (SQLite adds a NOT NULL column
    /// only with a default; every registration writes the column, and no row keeps the default.)
    static let version4 = SchemaMigration(
        version: 4,
        statements: [
            "ALTER TABLE hosts ADD COLUMN vm_id TEXT NOT NULL DEFAULT ''",
            "UPDATE hosts SET vm_id = host_id",
            "CREATE INDEX hosts_vm_busy ON hosts (vm_id) WHERE session_id IS NOT NULL",
        ])

    /// Version 5: drains and what agents report of their games (the operator API).
    ///
    /// - `hosts` gets the drain in force (`drain_deadline_ms`, `drain_source`, `drain_reason`, all
    ///   NULL when the host is not draining: claims take only hosts whose deadline is NULL, a
    ///   residual filter on the existing partial indexes), whether its agent reported the VM
    ///   `drained` (0 or 1) and the `players` of its session (a JSON array of `Player`, NULL when
    ///   none were reported for the session it holds).
    /// - `drain_scopes` keeps each operator's drain until its deadline, so that hosts registering
    ///   under it meanwhile are drained too; a NULL `title_id`, `region_key`
    ///   (`TitleRules.locationKey`) or `vm_id` matches any host.
    static let version5 = SchemaMigration(
        version: 5,
        statements: [
            "ALTER TABLE hosts ADD COLUMN drain_deadline_ms INTEGER",
            "ALTER TABLE hosts ADD COLUMN drain_source TEXT",
            "ALTER TABLE hosts ADD COLUMN drain_reason TEXT",
            "ALTER TABLE hosts ADD COLUMN drained INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE hosts ADD COLUMN players TEXT",
            """
            CREATE TABLE drain_scopes (
                id INTEGER PRIMARY KEY,
                title_id TEXT,
                region_key TEXT,
                vm_id TEXT,
                deadline_ms INTEGER NOT NULL,
                source TEXT NOT NULL,
                reason TEXT,
                created_ms INTEGER NOT NULL
            ) STRICT
            """,
            "CREATE INDEX drain_scopes_deadline ON drain_scopes (deadline_ms)",
        ])

    /// Version 6: a packed claim walks an index instead of counting per candidate.
    ///
    /// - `vm_busy` on every host is the number of hosts of its VM (`vm_id`) holding a session.
    ///   Every statement that gives a host a session or takes it away, or registers a host, is
    ///   followed in its transaction by a recount of that VM through `hosts_vm_busy`, written to
    ///   the VM's hosts through `hosts_vm` (`recountVM`). (Triggers did the same at first, but
    ///   any trigger makes SQLite run each UPDATE of `hosts` in two passes through a temporary
    ///   table: nearly half of a claim's and an end's time went into opening those tables.)
    /// - `hosts_packed` and `hosts_packed_region` order the free hosts as the packed strategy
    ///   wants (busiest VM first, then longest StandingBy), so that a claim reads the first
    ///   matching entry instead of sorting every free host of the title (which cost about 2 ms
    ///   of CPU per claim with 1,000 free hosts).
    static let version6 = SchemaMigration(
        version: 6,
        statements: [
            "ALTER TABLE hosts ADD COLUMN vm_busy INTEGER NOT NULL DEFAULT 0",
            "CREATE INDEX hosts_vm ON hosts (vm_id)",
            """
            UPDATE hosts SET vm_busy = (SELECT COUNT(*) FROM hosts AS busy
                WHERE busy.vm_id = hosts.vm_id AND busy.session_id IS NOT NULL)
            """,
            """
            CREATE INDEX hosts_packed ON hosts (title_id, vm_busy DESC, standing_by_since_ms, host_id)
            WHERE state = 'StandingBy' AND session_id IS NULL
            """,
            """
            CREATE INDEX hosts_packed_region ON hosts (title_id, region_key, vm_busy DESC, standing_by_since_ms, host_id)
            WHERE state = 'StandingBy' AND session_id IS NULL
            """,
        ])

    /// Applies the migrations the file does not have yet, each in its own `BEGIN IMMEDIATE`
    /// transaction (so two processes opening one file at once apply each version once).
    /// Returns the versions applied now. Throws `StoreError.schemaTooNew` when the file is newer
    /// than the newest of `migrations`.
    static func apply(_ migrations: [SchemaMigration], on db: Database, at now: Date) throws -> [Int] {
        let ordered = migrations.sorted { $0.version < $1.version }
        let newest = ordered.last?.version ?? 0
        try db.execute(
            sql:
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"
        )
        try checkNotTooNew(db, known: newest)
        var applied: [Int] = []
        for migration in ordered {
            try db.inTransaction(.immediate) {
                try checkNotTooNew(db, known: newest)
                let present = try db.row(
                    "SELECT 1 AS present FROM schema_migrations WHERE version = ?", [migration.version])
                if present == nil {
                    for statement in migration.statements {
                        try db.execute(sql: statement)
                    }
                    try db.run(
                        "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                        [migration.version, now.storeArgument])
                    applied.append(migration.version)
                }
                return .commit
            }
        }
        return applied
    }

    /// The versions recorded in the file, ascending.
    static func appliedVersions(_ db: Database) throws -> [Int] {
        try db.rows("SELECT version FROM schema_migrations ORDER BY version").map { row in
            Int(try Columns(row).int("version"))
        }
    }

    private static func checkNotTooNew(_ db: Database, known: Int) throws {
        let row = try db.row("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations")
        let found = try row.map { Int(try Columns($0).int("version")) } ?? 0
        if found > known {
            throw StoreError.schemaTooNew(found: found, known: known)
        }
    }
}
