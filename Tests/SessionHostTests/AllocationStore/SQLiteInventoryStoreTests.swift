import AllocationStore
@testable import AllocationStoreSQLite
import Foundation
import Logging
import SessionHostModel
import GRDB
import Testing

/// What only the embedded store has (the file, its schema), each test on a fresh SQLite file in
/// a temporary directory. The `InventoryStore` contract runs on it in `InventoryStoreContractTests`.
@Suite("SQLiteInventoryStore")
struct SQLiteInventoryStoreTests {
    typealias Contract = InventoryStoreContract

    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func open(_ path: String, migrations: [SchemaMigration] = SchemaMigrations.all) async throws
        -> SQLiteInventoryStore
    {
        try await SQLiteInventoryStore.open(path: path, logger: logger, migrations: migrations)
    }

    /// Runs `check` on a fresh store, closing it afterwards whatever happens.
    static func withStore(_ check: (any InventoryStore) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        let store = try await open(directory.file("gsms.sqlite"))
        do {
            try await check(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        withExtendedLifetime(directory) {}
    }

    // MARK: The file

    @Test("everything survives closing and reopening the file")
    func durableAcrossReopen() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("gsms.sqlite")
        try await Contract.everythingSurvivesReopening(try await Self.open(path)) { try await Self.open(path) }
        withExtendedLifetime(directory) {}
    }

    @Test("migrations are applied once; a file with a newer schema is refused")
    func migrations() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("gsms.sqlite")
        let known = SchemaMigrations.all.map(\.version)
        let newest = SchemaMigrations.newestVersion
        // A file of the first version (what gsmsd 1 wrote) is brought up to date, keeping its hosts.
        let first = try await Self.open(path, migrations: [SchemaMigrations.version1])
        #expect(try await first.appliedSchemaVersions() == [1])
        try await first.close()
        // The row as gsmsd 1 wrote it (this build's statements need the newer columns).
        let writer = try DatabaseQueue(path: path)
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO hosts (host_id, title_id, region, region_key, host_name, port_mappings, secure_context,
                        state, last_heartbeat_ms, standing_by_since_ms, health, registered_state)
                    VALUES ('h1', '1234', 'WestUS', 'westus', 'game.example', '[]', '', 'StandingBy', 0, 0, 'Healthy', 'StandingBy')
                    """)
        }
        try writer.close()

        let second = try await Self.open(path)
        #expect(try await second.appliedSchemaVersions() == known)
        #expect(try await second.host(id: "h1") != nil)
        #expect(
            try await second.checkHostKey(hostId: "h1", digest: "k", bindIfAbsent: false, at: Contract.at(1)) == .bound)
        // Hosts of files older than version 4 are VMs of their own.
        #expect(try await second.read { db in try String.fetchOne(db, sql: "SELECT vm_id FROM hosts") } == "h1")
        #expect(try await second.host(id: "h1")?.registration.vmId == nil)
        try await second.close()

        // A later build adds a version; this build must then refuse the file rather than misuse it.
        let later = SchemaMigration(
            version: newest + 1, statements: ["CREATE TABLE later_feature (id INTEGER PRIMARY KEY)"])
        let laterStore = try await Self.open(path, migrations: SchemaMigrations.all + [later])
        #expect(try await laterStore.appliedSchemaVersions() == known + [newest + 1])
        #expect(try await laterStore.host(id: "h1") != nil)
        try await laterStore.close()

        await #expect(throws: StoreError.schemaTooNew(found: newest + 1, known: newest)) { try await Self.open(path) }
        withExtendedLifetime(directory) {}
    }

    @Test("a version-4 file is brought to the newest version keeping its hosts and sessions")
    func migrationFromVersion4() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("gsms.sqlite")
        let version4 = try await Self.open(
            path,
            migrations: [
                SchemaMigrations.version1, SchemaMigrations.version2, SchemaMigrations.version3,
                SchemaMigrations.version4,
            ])
        #expect(try await version4.appliedSchemaVersions() == [1, 2, 3, 4])
        try await version4.close()
        // The rows as gsmsd wrote them with version 4.
        let ms = Contract.at(0).storeMilliseconds
        let writer = try DatabaseQueue(path: path)
        try await writer.write { db in
            for statement in [
                """
                INSERT INTO hosts (host_id, title_id, region, region_key, host_name, port_mappings, secure_context,
                    state, session_id, last_heartbeat_ms, standing_by_since_ms, health, registered_state, revision, vm_id)
                VALUES ('h1', '\(Contract.title)', 'WestUS', 'westus', 'game.example', '[]', '', 'StandingBy', NULL,
                        \(ms), \(ms), 'Healthy', 'StandingBy', 5, 'vm1'),
                    ('h2', '\(Contract.title)', 'WestUS', 'westus', 'game.example', '[]', '', 'Active', '\(Contract.sid(1))',
                        \(ms), NULL, 'Healthy', 'StandingBy', 6, 'vm1')
                """,
                """
                INSERT INTO sessions (title_id, session_id, kind, state, host_id, allocated_at_ms, acknowledge_by_ms,
                    host_name, region, port_mappings, secure_context)
                VALUES ('\(Contract.title)', '\(Contract.sid(1))', 'sessionHost', 'Active', 'h2', \(ms), \(ms),
                    'game.example', 'WestUS', '[]', '')
                """,
            ] {
                try db.execute(sql: statement)
            }
        }
        try writer.close()

        let store = try await Self.open(path)
        #expect(try await store.appliedSchemaVersions() == SchemaMigrations.all.map(\.version))
        #expect(try await Self.wrongVMCounts(store) == [], "version 6 counts the busy hosts of the old file")
        do {
            try await Contract.version4RowsKept(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        withExtendedLifetime(directory) {}
    }

    /// The hosts whose `vm_busy` differs from the count of their VM's hosts holding a session.
    static func wrongVMCounts(_ store: SQLiteInventoryStore) async throws -> [String] {
        try await store.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT host_id FROM hosts WHERE vm_busy <> (SELECT COUNT(*) FROM hosts AS busy
                        WHERE busy.vm_id = hosts.vm_id AND busy.session_id IS NOT NULL)
                    """
            ).map { $0["host_id"] as String }
        }
    }

    @Test("every host's vm_busy is its VM's count of hosts holding a session, through every kind of change")
    func vmBusyStaysExact() async throws {
        let scenarios: [(String, @Sendable (any InventoryStore) async throws -> Void)] = [
            ("packed", Contract.claimPacksSessionsOntoBusyVMs), ("own VM", Contract.hostWithoutVmIdIsItsOwnVM),
            ("queue", Contract.queueClaimPacks), ("reassign", Contract.reassignWithNoHostLeft),
            ("end", Contract.endSession), ("sweep", Contract.sweep), ("deregister", Contract.deregistration),
            ("shutdown", Contract.shutdownSession), ("drain", Contract.drainingHostsAreNeverClaimed),
            ("moved VM", Contract.busyHostMovingVMsMovesItsCount),
        ]
        for (name, scenario) in scenarios {
            try await Self.withStore { store in
                try await scenario(store)
                let sqlite = try #require(store as? SQLiteInventoryStore)
                let busy = try await sqlite.read { db in
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hosts WHERE vm_busy > 0") ?? 0
                }
                #expect(try await Self.wrongVMCounts(sqlite) == [], "\(name)")
                if name == "packed" { #expect(busy > 0, "the scenario leaves busy VMs to count") }
            }
        }
    }

    @Test("a claim reads the first entry of its strategy's index, never sorting or scanning the hosts")
    func claimQueryPlans() async throws {
        let directory = try TemporaryDirectory()
        let store = try await Self.open(directory.file("gsms.sqlite"))
        let indexes: [(AllocationStrategy, String)] = [(.packed, "hosts_packed"), (.distributed, "hosts_standing_by")]
        for (strategy, index) in indexes {
            for locations in [[], ["WestUS", "East US"]] {
                let query = CandidateQuery(
                    titleId: Contract.title, criteria: HostCriteria(locations: locations), liveSince: Contract.at(0),
                    excluding: ["gone"], strategy: strategy)
                #expect(query.probes.count == max(1, locations.count))
                for probe in query.probes {
                    let plan = try await store.read { db in
                        try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + probe.sql, arguments: probe.arguments).map {
                            $0["detail"] as String
                        }
                    }
                    // One index-ordered search per probe: nothing scanned, nothing sorted.
                    #expect(plan.count == 1, "\(strategy): \(plan)")
                    #expect(
                        plan.first?.hasPrefix("SEARCH candidate USING INDEX \(index)") == true, "\(strategy): \(plan)")
                    #expect(
                        !plan.contains { $0.contains("TEMP B-TREE") || $0.hasPrefix("SCAN") }, "\(strategy): \(plan)")
                }
            }
        }
        try await store.close()
        withExtendedLifetime(directory) {}
    }

    @Test("failures are StoreError.unavailable, never a crash")
    func unavailable() async throws {
        let directory = try TemporaryDirectory()
        let missing = try await #require(throws: StoreError.self) {
            try await Self.open(directory.file("no/such/dir/gsms.sqlite"))
        }
        #expect(missing.code == .storeUnavailable)

        let store = try await Self.open(directory.file("gsms.sqlite"))
        try await store.close()
        let closed = try await #require(throws: StoreError.self) { try await store.host(id: "h1") }
        #expect(closed.code == .storeUnavailable)
        withExtendedLifetime(directory) {}
    }

    @Test("a failing migration is rolled back whole and not recorded")
    func migrationRollback() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("gsms.sqlite")
        let known = SchemaMigrations.all.map(\.version)
        let next = SchemaMigrations.newestVersion + 1
        let broken = SchemaMigration(
            version: next, statements: ["CREATE TABLE later_feature (id INTEGER PRIMARY KEY)", "THIS IS NOT SQL"])
        let error = try await #require(throws: StoreError.self) {
            try await Self.open(path, migrations: SchemaMigrations.all + [broken])
        }
        #expect(error.code == .storeUnavailable)

        let store = try await Self.open(path)
        #expect(try await store.appliedSchemaVersions() == known)
        try await store.close()
        // The table of the failed step is gone too: the fixed step can create it.
        let fixed = SchemaMigration(version: next, statements: ["CREATE TABLE later_feature (id INTEGER PRIMARY KEY)"])
        let upgraded = try await Self.open(path, migrations: SchemaMigrations.all + [fixed])
        #expect(try await upgraded.appliedSchemaVersions() == known + [next])
        try await upgraded.close()
        withExtendedLifetime(directory) {}
    }
}
