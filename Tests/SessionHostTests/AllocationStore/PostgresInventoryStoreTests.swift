import AllocationStore
@testable import AllocationStorePostgres
import Foundation
import Logging
import PostgresNIO
import SessionHostModel
import Testing

/// What only the shared store has: its URL, its schema in a database, and several instances
/// (store objects with their own pools) on one database at once. Each test gets a new database
/// on the test cluster (`PostgresTestDatabase`). The `InventoryStore` contract runs on it in
/// `InventoryStoreContractTests`.
@Suite("PostgresInventoryStore")
struct PostgresInventoryStoreTests {
    typealias Contract = InventoryStoreContract

    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func open(
        _ database: PostgresTestDatabase, migrations: [PostgresSchemaMigration] = PostgresSchemaMigrations.all
    ) async throws -> PostgresInventoryStore {
        try await PostgresInventoryStore.open(database.configuration, logger: logger, migrations: migrations)
    }

    /// Runs `check` on a fresh store in a new database, closing and dropping it afterwards.
    static func withStore(_ check: (any InventoryStore) async throws -> Void) async throws {
        try await PostgresTestDatabase.with { database in
            let store = try await open(database)
            do {
                try await check(store)
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        }
    }

    /// Runs `check` with `count` stores on one new database, as `count` gsmsd instances have.
    static func withInstances(_ count: Int, _ check: ([PostgresInventoryStore]) async throws -> Void) async throws {
        try await PostgresTestDatabase.with { database in
            var stores: [PostgresInventoryStore] = []
            do {
                for _ in 0..<count { stores.append(try await open(database)) }
                try await check(stores)
            } catch {
                for store in stores { try? await store.close() }
                throw error
            }
            for store in stores { try await store.close() }
        }
    }

    // MARK: The URL

    @Test("postgres:// URLs are parsed as libpq writes them")
    func urls() throws {
        let full = try PostgresStoreConfiguration(
            url: "postgresql://gsms:s%40cret@db.example:6543/inventory?sslmode=require")
        #expect(
            full
                == PostgresStoreConfiguration(
                    host: "db.example", port: 6543, username: "gsms", password: "s@cret", database: "inventory",
                    tlsMode: .require))
        #expect(full.redactedDescription == "postgres://gsms@db.example:6543/inventory")
        #expect(!full.redactedDescription.contains("cret"))

        let plain = try PostgresStoreConfiguration(url: "postgres://gsms@127.0.0.1/gsms")
        #expect(plain.port == 5432 && plain.tlsMode == .prefer && plain.password == nil && plain.socketDirectory == nil)

        let socket = try PostgresStoreConfiguration(url: "postgres://gsms@/gsms?host=/run/postgresql")
        #expect(socket.socketDirectory == "/run/postgresql")
        #expect(socket.redactedDescription == "postgres://gsms@/run/postgresql/.s.PGSQL.5432/gsms")

        for bad in [
            "postgres://db/gsms", "postgres://gsms@db", "postgres://gsms@db/", "mysql://gsms@db/gsms",
            "postgres://gsms@db:0/gsms",
            "postgres://gsms@db/gsms?sslmode=maybe", "postgres://gsms@db/gsms?colour=blue",
            "postgres://gsms@db/gsms?host=relative",
        ] {
            #expect(throws: PostgresURLError.self, "\(bad)") { try PostgresStoreConfiguration(url: bad) }
        }
    }

    // MARK: The schema

    @Test("migrations are applied once, by whichever instance comes first; a newer schema is refused")
    func migrations() async throws {
        try await PostgresTestDatabase.with { database in
            // Three instances start at once on an empty database.
            let stores = try await withThrowingTaskGroup(of: PostgresInventoryStore.self) { group in
                for _ in 0..<3 { group.addTask { try await Self.open(database) } }
                return try await group.reduce(into: [PostgresInventoryStore]()) { $0.append($1) }
            }
            let known = PostgresSchemaMigrations.all.map(\.version)
            let newest = PostgresSchemaMigrations.newestVersion
            for store in stores {
                #expect(try await store.appliedSchemaVersions() == known)
            }
            _ = try await stores[0].registerHost(id: "h1", Contract.registration(), at: Contract.at(0))
            #expect(try await stores[2].host(id: "h1") != nil)
            for store in stores { try await store.close() }

            // A later build adds a version; this build must then refuse the database rather than misuse it.
            let laterVersion = PostgresSchemaMigration(
                version: newest + 1, statements: ["CREATE TABLE later_feature (id BIGINT PRIMARY KEY)"])
            let later = try await Self.open(database, migrations: PostgresSchemaMigrations.all + [laterVersion])
            #expect(try await later.appliedSchemaVersions() == known + [newest + 1])
            #expect(try await later.host(id: "h1") != nil)
            try await later.close()

            await #expect(throws: StoreError.schemaTooNew(found: newest + 1, known: newest)) {
                try await Self.open(database)
            }
        }
    }

    @Test("a version-4 database is brought to version 5 keeping its hosts and sessions")
    func migrationFromVersion4() async throws {
        try await PostgresTestDatabase.with { database in
            let version4 = try await Self.open(
                database,
                migrations: [
                    PostgresSchemaMigrations.version1, PostgresSchemaMigrations.version2,
                    PostgresSchemaMigrations.version3, PostgresSchemaMigrations.version4,
                ])
            #expect(try await version4.appliedSchemaVersions() == [1, 2, 3, 4])
            // The rows as gsmsd wrote them with version 4.
            let ms = Contract.at(0).storeMilliseconds
            try await version4.transaction { connection in
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
                    try await version4.run(connection, PostgresQuery(unsafeSQL: statement))
                }
            }
            try await version4.close()

            let store = try await Self.open(database)
            #expect(try await store.appliedSchemaVersions() == PostgresSchemaMigrations.all.map(\.version))
            do {
                try await Contract.version4RowsKept(store)
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        }
    }

    @Test("a failing migration is rolled back whole and not recorded")
    func migrationRollback() async throws {
        try await PostgresTestDatabase.with { database in
            let known = PostgresSchemaMigrations.all.map(\.version)
            let next = PostgresSchemaMigrations.newestVersion + 1
            let broken = PostgresSchemaMigration(
                version: next, statements: ["CREATE TABLE later_feature (id BIGINT PRIMARY KEY)", "THIS IS NOT SQL"])
            let error = try await #require(throws: StoreError.self) {
                try await Self.open(database, migrations: PostgresSchemaMigrations.all + [broken])
            }
            #expect(error.code == .storeUnavailable)

            let store = try await Self.open(database)
            #expect(try await store.appliedSchemaVersions() == known)
            try await store.close()
            let fixed = PostgresSchemaMigration(
                version: next, statements: ["CREATE TABLE later_feature (id BIGINT PRIMARY KEY)"])
            let upgraded = try await Self.open(database, migrations: PostgresSchemaMigrations.all + [fixed])
            #expect(try await upgraded.appliedSchemaVersions() == known + [next])
            try await upgraded.close()
        }
    }

    @Test("an unreachable server or a closed store is StoreError.unavailable, never a crash")
    func unavailable() async throws {
        let nowhere = PostgresStoreConfiguration(
            host: "127.0.0.1", port: 1, username: "gsms", database: "gsms", tlsMode: .disable)
        let refused = try await #require(throws: StoreError.self) {
            try await PostgresInventoryStore.open(nowhere, logger: Self.logger)
        }
        #expect(refused.code == .storeUnavailable)

        try await PostgresTestDatabase.with { database in
            let store = try await Self.open(database)
            try await store.close()
            let closed = try await #require(throws: StoreError.self) { try await store.host(id: "h1") }
            #expect(closed.code == .storeUnavailable)
        }
    }

    // MARK: Several instances

    @Test("claims spread over three instances take distinct hosts; one session id is placed once")
    func claimsAcrossInstances() async throws {
        try await Self.withInstances(3) { stores in
            let hostIds = (1...30).map { "host-\($0)" }
            try await Contract.registerHosts(stores[0], hostIds)
            let outcomes = try await withThrowingTaskGroup(of: ClaimOutcome.self) { group in
                for number in 1...60 {
                    let store = stores[number % stores.count]
                    group.addTask {
                        try await store.claimHost(Contract.claim(Contract.sid(number), now: Contract.at(29)))
                    }
                }
                // The same session id asked of every instance at once, ten times each.
                for index in 0..<30 {
                    let store = stores[index % stores.count]
                    group.addTask {
                        try await store.claimHost(Contract.claim(Contract.sid(1000), now: Contract.at(29)))
                    }
                }
                return try await group.reduce(into: [ClaimOutcome]()) { $0.append($1) }
            }
            let claimed = outcomes.compactMap(\.claimedAllocation)
            #expect(claimed.count == 30)
            #expect(Set(claimed.map(\.sessionHostId)) == Set(hostIds))
            #expect(Set(claimed.map(\.sessionId)).count == 30)
            #expect(outcomes.count == 90)
            // Every host holds the session that claimed it, as every instance sees it.
            for allocation in claimed {
                for store in stores {
                    #expect(try await store.host(id: allocation.sessionHostId)?.sessionId == allocation.sessionId)
                }
            }
        }
    }

    @Test("sweeps on every instance racing acknowledgements: each hand-off is Active or abandoned once, never both")
    func sweepsRacingAcknowledgements() async throws {
        try await Self.withInstances(2) { stores in
            let hostIds = (1...24).map { "host-\($0)" }
            try await Contract.registerHosts(stores[0], hostIds)
            var placed: [Allocation] = []
            for number in 1...24 {
                let claim = Contract.claim(
                    Contract.sid(number), kind: number.isMultiple(of: 2) ? .cluster : .sessionHost, now: Contract.at(25)
                )
                placed.append(try #require(try await stores[number % 2].claimHost(claim).claimedAllocation))
            }
            // Every hand-off is overdue for the sweeps; half of them are acknowledged at the same time.
            let policy = SweepPolicy(
                now: Contract.at(60), liveSince: Contract.at(0), handoffsDueBefore: Contract.at(60),
                polledSince: Contract.at(0))
            enum Event: Sendable {
                case swept(SweepReport)
                case confirmed(String, Bool)
            }
            let events = try await withThrowingTaskGroup(of: Event.self) { group in
                for store in stores {
                    for _ in 0..<3 { group.addTask { .swept(try await store.sweep(policy)) } }
                }
                for (index, allocation) in placed.enumerated() where index.isMultiple(of: 2) {
                    let store = stores[index % 2 == 0 ? 1 : 0]
                    group.addTask {
                        let confirmed = try await store.confirmHandoff(
                            hostId: allocation.sessionHostId, sessionId: allocation.sessionId, at: Contract.at(61))?
                            .session
                        return .confirmed(allocation.sessionId, confirmed != nil)
                    }
                }
                return try await group.reduce(into: [Event]()) { $0.append($1) }
            }
            var abandoned: [String] = []
            var confirmed = Set<String>()
            for event in events {
                switch event {
                case .swept(let report): abandoned += report.abandonedHandoffs.map(\.sessionId)
                case .confirmed(let sessionId, true): confirmed.insert(sessionId)
                case .confirmed: break
                }
            }
            // A sweep that found another at work did nothing; one more now finishes what is overdue.
            abandoned += try await stores[0].sweep(policy).abandonedHandoffs.map(\.sessionId)
            #expect(abandoned.count == Set(abandoned).count, "a hand-off abandoned twice")
            #expect(Set(abandoned).isDisjoint(with: confirmed), "an acknowledged hand-off was abandoned")
            #expect(Set(abandoned).union(confirmed) == Set(placed.map(\.sessionId)))
            for allocation in placed {
                let current = try await stores[1].allocation(
                    titleId: allocation.titleId, sessionId: allocation.sessionId)
                let host = try #require(try await stores[0].host(id: allocation.sessionHostId))
                if confirmed.contains(allocation.sessionId) {
                    #expect(current?.state == .active)
                    #expect(host.sessionId == allocation.sessionId)
                } else {
                    #expect(current == nil)
                    #expect(host.state == .unhealthy && host.sessionId == nil)
                }
            }
        }
    }

    @Test("everything one instance wrote is there for another opened later")
    func durableAcrossInstances() async throws {
        try await PostgresTestDatabase.with { database in
            try await Contract.everythingSurvivesReopening(try await Self.open(database)) {
                try await Self.open(database)
            }
        }
    }
}
