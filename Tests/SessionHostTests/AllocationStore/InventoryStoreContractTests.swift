import AllocationStore
import Testing

/// A store the contract runs on: each test gets a fresh, empty one.
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// Runs `check` on a fresh store of this kind, closing (and removing) it afterwards.
    func withStore(_ check: (any InventoryStore) async throws -> Void) async throws {
        switch self {
        case .sqlite: try await SQLiteInventoryStoreTests.withStore(check)
        case .postgres: try await PostgresInventoryStoreTests.withStore(check)
        }
    }
}

/// The `InventoryStore` contract (`InventoryStoreContract`), one suite run against every backend.
@Suite("InventoryStore contract")
struct InventoryStoreContractTests {
    typealias Contract = InventoryStoreContract

    @Test("registration and heartbeats reconcile the agent's view", arguments: StoreBackend.allCases)
    func registrationAndHeartbeat(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.registrationAndHeartbeat)
    }

    @Test("a host holding a session keeps it whatever its agent reports", arguments: StoreBackend.allCases)
    func reconciliationWithSession(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.reconciliationWithSession)
    }

    @Test("deregistration removes only hosts without a session", arguments: StoreBackend.allCases)
    func deregistration(_ backend: StoreBackend) async throws { try await backend.withStore(Contract.deregistration) }

    @Test("a host id is bound to the first key presented until it deregisters", arguments: StoreBackend.allCases)
    func hostKeys(_ backend: StoreBackend) async throws { try await backend.withStore(Contract.hostKeys) }

    @Test("host counts by title, region and state, and queue summaries, for metrics", arguments: StoreBackend.allCases)
    func hostCountsAndQueueSummaries(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.hostCountsAndQueueSummaries)
    }

    @Test("a claim takes the longest-StandingBy host of the title", arguments: StoreBackend.allCases)
    func claimTakesLongestStandingBy(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.claimTakesLongestStandingBy)
    }

    @Test("locations are tried strictly in order, ignoring case and white space", arguments: StoreBackend.allCases)
    func claimLocationsInOrder(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.claimLocationsInOrder)
    }

    @Test("sandbox, cloud game and game mode match both ways", arguments: StoreBackend.allCases)
    func claimMatches(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.claimMatchesSandboxCloudGameAndGameMode)
    }

    @Test(
        "every change of a host's session raises its revision, also across deregistration",
        arguments: StoreBackend.allCases)
    func revisions(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.revisionsGrowWithEveryAssignmentChange)
    }

    @Test("a heartbeat based on an older revision is a sign of life only", arguments: StoreBackend.allCases)
    func staleHeartbeat(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.staleHeartbeatIsOnlyASignOfLife)
    }

    @Test("claims pass over hosts whose hand-off channel is down", arguments: StoreBackend.allCases)
    func unreachableHosts(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.claimPassesOverUnreachableHosts)
        try await backend.withStore(Contract.claimPassesOverManyUnreachableHosts)
    }

    @Test("hosts not heard from since liveSince are not claimed", arguments: StoreBackend.allCases)
    func liveness(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.claimSkipsHostsNotHeardFrom)
    }

    @Test(
        "claiming an existing session answers inFlight or active and allocates nothing",
        arguments: StoreBackend.allCases)
    func existingSession(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.claimOfAnExistingSession)
    }

    @Test("confirming a hand-off makes it Active, idempotently", arguments: StoreBackend.allCases)
    func confirm(_ backend: StoreBackend) async throws { try await backend.withStore(Contract.confirmHandoff) }

    @Test("an unacknowledged hand-off moves to the next host", arguments: StoreBackend.allCases)
    func reassignToNext(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.reassignToTheNextHost)
    }

    @Test(
        "with no host left a hand-off is dropped, a cluster one re-queued at the head", arguments: StoreBackend.allCases
    )
    func reassignToNone(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.reassignWithNoHostLeft)
    }

    @Test("ending a session frees the host as Terminating", arguments: StoreBackend.allCases)
    func endSession(_ backend: StoreBackend) async throws { try await backend.withStore(Contract.endSession) }

    @Test("the cluster queue is FIFO per title with positions, polling and expiry", arguments: StoreBackend.allCases)
    func queue(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.queueOrderPositionsAndPolling)
    }

    @Test("the head of the queue takes a free host that declared nothing", arguments: StoreBackend.allCases)
    func claimForQueue(_ backend: StoreBackend) async throws { try await backend.withStore(Contract.claimHostForQueue) }

    @Test(
        "packed fills the VM with sessions first, distributed takes the longest-StandingBy host",
        arguments: StoreBackend.allCases)
    func packedAndDistributed(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.claimPacksSessionsOntoBusyVMs)
    }

    @Test("a host registered without vmId is a VM of its own", arguments: StoreBackend.allCases)
    func hostIsItsOwnVM(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.hostWithoutVmIdIsItsOwnVM)
    }

    @Test("a busy host that moves to another VM takes its count along", arguments: StoreBackend.allCases)
    func busyHostMovesVM(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.busyHostMovingVMsMovesItsCount)
    }

    @Test("the cluster queue's claim packs too", arguments: StoreBackend.allCases)
    func queueClaimPacks(_ backend: StoreBackend) async throws { try await backend.withStore(Contract.queueClaimPacks) }

    @Test(
        "a sweep marks silent hosts, abandons overdue hand-offs and expires tickets", arguments: StoreBackend.allCases)
    func sweep(_ backend: StoreBackend) async throws { try await backend.withStore(Contract.sweep) }

    @Test(
        "a call refused inside its transaction changes nothing and leaves none open", arguments: StoreBackend.allCases)
    func refusedCall(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.refusedCallChangesNothing)
    }

    @Test("draining hosts are never given a session", arguments: StoreBackend.allCases)
    func drainingHostsAreNeverClaimed(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.drainingHostsAreNeverClaimed)
    }

    @Test("registrations and heartbeats drain hosts; the earliest deadline wins", arguments: StoreBackend.allCases)
    func registrationAndHeartbeatDrains(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.registrationAndHeartbeatDrains)
    }

    @Test(
        "an operator's drain covers its scope's hosts, and those registering until its deadline",
        arguments: StoreBackend.allCases)
    func scopeDrains(_ backend: StoreBackend) async throws { try await backend.withStore(Contract.scopeDrains) }

    @Test("shutting a session down frees its host as Terminating", arguments: StoreBackend.allCases)
    func shutdownSession(_ backend: StoreBackend) async throws { try await backend.withStore(Contract.shutdownSession) }

    @Test("players are recorded for the session held and cleared when it goes", arguments: StoreBackend.allCases)
    func playersFollowTheSession(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.playersFollowTheSession)
    }

    @Test("hosts and sessions are listed by filter, in order, page by page", arguments: StoreBackend.allCases)
    func listing(_ backend: StoreBackend) async throws { try await backend.withStore(Contract.listing) }

    @Test("fleet counts per title and region: states, drains, VMs", arguments: StoreBackend.allCases)
    func fleetCounts(_ backend: StoreBackend) async throws { try await backend.withStore(Contract.fleetCounts) }

    @Test("50 concurrent claims on 20 hosts: 20 distinct hosts claimed, 30 noHost", arguments: StoreBackend.allCases)
    func concurrentDistinct(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.concurrentClaimsDistinctSessions)
    }

    @Test("20 concurrent claims of one session id: exactly one claimed", arguments: StoreBackend.allCases)
    func concurrentOneSession(_ backend: StoreBackend) async throws {
        try await backend.withStore(Contract.concurrentClaimsOneSession)
    }
}
