import AllocationStore
@testable import AllocationStoreSQLite
import Foundation
import Logging
import SessionHostModel
import Testing

/// The `InventoryStore` contract, and what only the embedded store has (the file, its schema),
/// each test on a fresh SQLite file in a temporary directory.
@Suite("SQLiteInventoryStore")
struct SQLiteInventoryStoreTests {
    typealias Contract = InventoryStoreContract

    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func open(_ path: String, migrations: [SchemaMigration] = SchemaMigrations.all) async throws -> SQLiteInventoryStore {
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

    // MARK: Contract

    @Test("registration and heartbeats reconcile the agent's view")
    func registrationAndHeartbeat() async throws { try await Self.withStore(Contract.registrationAndHeartbeat) }

    @Test("a host holding a session keeps it whatever its agent reports")
    func reconciliationWithSession() async throws { try await Self.withStore(Contract.reconciliationWithSession) }

    @Test("deregistration removes only hosts without a session")
    func deregistration() async throws { try await Self.withStore(Contract.deregistration) }

    @Test("a host id is bound to the first key presented until it deregisters")
    func hostKeys() async throws { try await Self.withStore(Contract.hostKeys) }

    @Test("a claim takes the longest-StandingBy host of the title")
    func claimTakesLongestStandingBy() async throws { try await Self.withStore(Contract.claimTakesLongestStandingBy) }

    @Test("locations are tried strictly in order, ignoring case and white space")
    func claimLocationsInOrder() async throws { try await Self.withStore(Contract.claimLocationsInOrder) }

    @Test("sandbox, cloud game and game mode match both ways")
    func claimMatches() async throws { try await Self.withStore(Contract.claimMatchesSandboxCloudGameAndGameMode) }

    @Test("hosts not heard from since liveSince are not claimed")
    func liveness() async throws { try await Self.withStore(Contract.claimSkipsHostsNotHeardFrom) }

    @Test("claiming an existing session answers inFlight or active and allocates nothing")
    func existingSession() async throws { try await Self.withStore(Contract.claimOfAnExistingSession) }

    @Test("confirming a hand-off makes it Active, idempotently")
    func confirm() async throws { try await Self.withStore(Contract.confirmHandoff) }

    @Test("an unacknowledged hand-off moves to the next host")
    func reassignToNext() async throws { try await Self.withStore(Contract.reassignToTheNextHost) }

    @Test("with no host left a hand-off is dropped, a cluster one re-queued at the head")
    func reassignToNone() async throws { try await Self.withStore(Contract.reassignWithNoHostLeft) }

    @Test("ending a session frees the host as Terminating")
    func endSession() async throws { try await Self.withStore(Contract.endSession) }

    @Test("the cluster queue is FIFO per title with positions, polling and expiry")
    func queue() async throws { try await Self.withStore(Contract.queueOrderPositionsAndPolling) }

    @Test("the head of the queue takes a free host that declared nothing")
    func claimForQueue() async throws { try await Self.withStore(Contract.claimHostForQueue) }

    @Test("host counts by title, region and state, and queue summaries, for /metrics")
    func countsForMetrics() async throws { try await Self.withStore(Contract.hostCountsAndQueueSummaries) }

    @Test("a sweep marks silent hosts, abandons overdue hand-offs and expires tickets")
    func sweep() async throws { try await Self.withStore(Contract.sweep) }

    @Test("50 concurrent claims on 20 hosts: 20 distinct hosts claimed, 30 noHost")
    func concurrentDistinct() async throws { try await Self.withStore(Contract.concurrentClaimsDistinctSessions) }

    @Test("20 concurrent claims of one session id: exactly one claimed")
    func concurrentOneSession() async throws { try await Self.withStore(Contract.concurrentClaimsOneSession) }

    // MARK: The file

    @Test("everything survives closing and reopening the file")
    func durableAcrossReopen() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("gsms.sqlite")
        let store = try await Self.open(path)
        try await Contract.registerHosts(store, ["h1", "h2", "h3"])
        let active = try #require(try await store.claimHost(Contract.claim(Contract.sid(1), cookie: "c", now: Contract.at(10))).claimedAllocation)
        _ = try await store.confirmHandoff(hostId: active.sessionHostId, sessionId: active.sessionId, at: Contract.at(11))
        let pending = try #require(try await store.claimHost(Contract.claim(Contract.sid(2), now: Contract.at(12))).claimedAllocation)
        let ticket = try await store.enqueueCluster(titleId: Contract.title, sessionId: Contract.clusterId(1), at: Contract.at(13))
        let hosts = try await [store.host(id: "h1"), store.host(id: "h2"), store.host(id: "h3")]
        try await store.close()

        let reopened = try await Self.open(path)
        #expect(try await [reopened.host(id: "h1"), reopened.host(id: "h2"), reopened.host(id: "h3")] == hosts)
        var expectedActive = active
        expectedActive.state = .active
        #expect(try await reopened.allocation(titleId: Contract.title, sessionId: Contract.sid(1)) == expectedActive)
        #expect(try await reopened.allocation(titleId: Contract.title, sessionId: Contract.sid(2)) == pending)
        #expect(try await reopened.pendingHandoff(hostId: pending.sessionHostId) == pending)
        #expect(try await reopened.ticket(titleId: Contract.title, sessionId: Contract.clusterId(1), polledAt: nil) == ticket)
        // And it keeps working: the last host is still free.
        #expect(try await reopened.claimHost(Contract.claim(Contract.sid(3), now: Contract.at(14))).claimedAllocation?.sessionHostId == "h3")
        try await reopened.close()
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
        _ = try await first.registerHost(id: "h1", Contract.registration(), at: Contract.at(0))
        #expect(try await first.appliedSchemaVersions() == [1])
        try await first.close()

        let second = try await Self.open(path)
        #expect(try await second.appliedSchemaVersions() == known)
        #expect(try await second.host(id: "h1") != nil)
        #expect(try await second.checkHostKey(hostId: "h1", digest: "k", bindIfAbsent: false, at: Contract.at(1)) == .bound)
        try await second.close()

        // A later build adds a version; this build must then refuse the file rather than misuse it.
        let later = SchemaMigration(version: newest + 1, statements: ["CREATE TABLE later_feature (id INTEGER PRIMARY KEY)"])
        let laterStore = try await Self.open(path, migrations: SchemaMigrations.all + [later])
        #expect(try await laterStore.appliedSchemaVersions() == known + [newest + 1])
        #expect(try await laterStore.host(id: "h1") != nil)
        try await laterStore.close()

        await #expect(throws: StoreError.schemaTooNew(found: newest + 1, known: newest)) { try await Self.open(path) }
        withExtendedLifetime(directory) {}
    }

    @Test("failures are StoreError.unavailable, never a crash")
    func unavailable() async throws {
        let directory = try TemporaryDirectory()
        let missing = try await #require(throws: StoreError.self) { try await Self.open(directory.file("no/such/dir/gsms.sqlite")) }
        #expect(missing.code == "StoreUnavailable")

        let store = try await Self.open(directory.file("gsms.sqlite"))
        try await store.close()
        let closed = try await #require(throws: StoreError.self) { try await store.host(id: "h1") }
        #expect(closed.code == "StoreUnavailable")
        withExtendedLifetime(directory) {}
    }

    @Test("a failing migration is rolled back whole and not recorded")
    func migrationRollback() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("gsms.sqlite")
        let known = SchemaMigrations.all.map(\.version)
        let next = SchemaMigrations.newestVersion + 1
        let broken = SchemaMigration(version: next, statements: ["CREATE TABLE later_feature (id INTEGER PRIMARY KEY)", "THIS IS NOT SQL"])
        let error = try await #require(throws: StoreError.self) { try await Self.open(path, migrations: SchemaMigrations.all + [broken]) }
        #expect(error.code == "StoreUnavailable")

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

    @Test("a call refused inside its transaction changes nothing and leaves none open")
    func refusedCall() async throws {
        try await Self.withStore { store in
            try await Contract.registerHosts(store, ["h1"])
            _ = try await store.claimHost(Contract.claim(Contract.sid(1), now: Contract.at(10)))
            // Refused inside the transaction after reading: nothing of it stays.
            await #expect(throws: StoreError.titleMismatch("h1")) {
                try await store.registerHost(id: "h1", Contract.registration(title: Contract.otherTitle, hostName: "x"), at: Contract.at(11))
            }
            let host = try #require(try await store.host(id: "h1"))
            #expect(host.registration.hostName == "game.example")
            #expect(host.lastHeartbeat == Contract.at(0))
            // The connection is usable afterwards (no transaction left open).
            #expect(try await store.deregisterHost(id: "missing") == false)
            #expect(try await store.claimHost(Contract.claim(Contract.sid(2), now: Contract.at(12))) == .noHost)
        }
    }
}
