import AllocationStore
import Foundation
import SessionHostModel
import Testing

/// What every `InventoryStore` must do, written against `any InventoryStore` so that each
/// implementation (SQLite and PostgreSQL, `InventoryStoreContractTests`) runs the same checks on
/// a fresh, empty store.
/// All times are fixed; nothing sleeps.
enum InventoryStoreContract {
    static let title = "1234ABCD"
    static let otherTitle = "5678EF01"

    /// `seconds` after a fixed origin.
    static func at(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_750_000_000 + seconds) }

    /// A GUID-shaped session id.
    static func sid(_ number: Int) -> String {
        let digits = String(number)
        return "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - digits.count) + digits
    }

    static func clusterId(_ number: Int) -> String { "/serviceconfigs/scid/sessiontemplates/t/session/c\(number)" }

    static func registration(
        title: String = title, region: String = "WestUS", hostName: String = "game.example", sandboxId: String? = nil,
        cloudGameId: String? = nil, gameModeId: String? = nil, vmId: String? = nil, state: HostState = .standingBy,
        health: GameHealth = .healthy, drain: DrainNotice? = nil
    ) -> HostRegistration {
        HostRegistration(
            titleId: title, region: region, hostName: hostName,
            portMappings: [
                PortMapping(name: "game", internal: 7777, external: 30000),
                PortMapping(name: "query", internal: 27015, external: 30001),
            ],
            secureContext: "c2VjdXJl", sandboxId: sandboxId, cloudGameId: cloudGameId, gameModeId: gameModeId,
            vmId: vmId, state: state, health: health, drain: drain
        )
    }

    /// A claim made at `now`: hosts heard from in the last 30 s are live, 10 s to acknowledge.
    static func claim(
        _ sessionId: String, title: String = title, kind: AllocationKind = .sessionHost,
        criteria: HostCriteria = HostCriteria(),
        cookie: String? = nil, now: Date, liveSince: Date? = nil
    ) -> AllocationClaim {
        AllocationClaim(
            titleId: title, sessionId: sessionId, kind: kind, criteria: criteria, sessionCookie: cookie, now: now,
            liveSince: liveSince ?? now.addingTimeInterval(-30), acknowledgeBy: now.addingTimeInterval(10)
        )
    }

    /// Registers StandingBy hosts `ids` one second apart from `start`, the first longest-waiting.
    static func registerHosts(
        _ store: any InventoryStore, _ ids: [String], from start: Double = 0, region: String = "WestUS"
    ) async throws {
        for (offset, id) in ids.enumerated() {
            _ = try await store.registerHost(id: id, registration(region: region), at: at(start + Double(offset)))
        }
    }

    static func hostState(_ store: any InventoryStore, _ id: String) async throws -> HostState? {
        try await store.host(id: id)?.state
    }

    // MARK: Hosts

    static func registrationAndHeartbeat(_ store: any InventoryStore) async throws {
        let described = registration()
        let registered = try await store.registerHost(id: "h1", described, at: at(0))
        #expect(
            registered
                == HostRecord(
                    sessionHostId: "h1", registration: described, state: .standingBy, sessionId: nil,
                    lastHeartbeat: at(0), standingBySince: at(0),
                    revision: AssignmentRevision.floor(at(0))
                ))
        #expect(try await store.host(id: "h1") == registered)
        #expect(try await store.host(id: "nope") == nil)

        // Staying StandingBy keeps the time it became StandingBy.
        let beat = try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .standingBy), at: at(5))
        #expect(beat.state == .standingBy)
        #expect(beat.lastHeartbeat == at(5))
        #expect(beat.standingBySince == at(0))

        // An unhealthy game makes a host without a session Unhealthy; healthy again, it takes the agent's state.
        let sick = try await store.recordHeartbeat(
            id: "h1", HostHeartbeat(state: .standingBy, health: .unhealthy), at: at(6))
        #expect(sick.state == .unhealthy)
        #expect(sick.standingBySince == nil)
        let well = try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .standingBy), at: at(7))
        #expect(well.state == .standingBy)
        #expect(well.standingBySince == at(7))

        // An agent claiming a session the inventory does not know is told to end it.
        let confused = try await store.recordHeartbeat(
            id: "h1", HostHeartbeat(state: .active, sessionId: sid(99)), at: at(8))
        #expect(confused.state == .terminating)
        #expect(confused.sessionId == nil)
        #expect(
            try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .standingBy), at: at(9)).state == .standingBy
        )

        // The agent's own Initializing / Terminating views are taken as they are.
        #expect(
            try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .terminating), at: at(10)).state
                == .terminating)
        let back = try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .standingBy), at: at(11))
        #expect(back.standingBySince == at(11))

        // Re-registering updates the description; a StandingBy host stays StandingBy since before.
        let moved = registration(region: "East US", hostName: "other.example", sandboxId: "SB")
        let updated = try await store.registerHost(id: "h1", moved, at: at(12))
        #expect(updated.registration == moved)
        #expect(updated.state == .standingBy)
        #expect(updated.standingBySince == at(11))
        #expect(updated.lastHeartbeat == at(12))

        // Registration states: Initializing as given, Unhealthy when the game is.
        let initializing = try await store.registerHost(id: "h2", registration(state: .initializing), at: at(13))
        #expect(initializing.state == .initializing)
        #expect(initializing.standingBySince == nil)
        #expect(try await store.registerHost(id: "h2", registration(), at: at(14)).standingBySince == at(14))
        #expect(
            try await store.registerHost(id: "h3", registration(health: .unhealthy), at: at(15)).state == .unhealthy)

        await #expect(throws: StoreError.unknownHost("ghost")) {
            try await store.recordHeartbeat(id: "ghost", HostHeartbeat(state: .standingBy), at: at(16))
        }
    }

    static func reconciliationWithSession(_ store: any InventoryStore) async throws {
        try await registerHosts(store, ["h1"])
        let claimed = try await store.claimHost(claim(sid(1), now: at(10)))
        #expect(claimed.claimedAllocation?.sessionHostId == "h1")

        // The agent has not fetched the hand-off yet: the host stays Allocating with the session.
        let waiting = try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .standingBy), at: at(11))
        #expect(waiting.state == .allocating)
        #expect(waiting.sessionId == sid(1))

        _ = try await store.confirmHandoff(hostId: "h1", sessionId: sid(1), at: at(12))?.session
        #expect(
            try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .active, sessionId: sid(1)), at: at(13))
                .state == .active)

        // Unhealthy while the game is, keeping the session; Active again once healthy.
        let sick = try await store.recordHeartbeat(
            id: "h1", HostHeartbeat(state: .active, sessionId: sid(1), health: .unhealthy), at: at(14))
        #expect(sick.state == .unhealthy)
        #expect(sick.sessionId == sid(1))
        #expect(try await store.allocation(titleId: title, sessionId: sid(1))?.state == .active)
        let well = try await store.recordHeartbeat(
            id: "h1", HostHeartbeat(state: .active, sessionId: sid(1)), at: at(15))
        #expect(well.state == .active)
        #expect(well.sessionId == sid(1))

        // The inventory's assignment wins over an agent that reports another session or none.
        let other = try await store.recordHeartbeat(
            id: "h1", HostHeartbeat(state: .active, sessionId: sid(2)), at: at(16))
        #expect(other.state == .active)
        #expect(other.sessionId == sid(1))
        let reregistered = try await store.registerHost(id: "h1", registration(hostName: "renamed.example"), at: at(17))
        #expect(reregistered.state == .active)
        #expect(reregistered.sessionId == sid(1))
        #expect(reregistered.registration.hostName == "renamed.example")

        // A host holding a session cannot move to another title.
        await #expect(throws: StoreError.titleMismatch("h1")) {
            try await store.registerHost(id: "h1", registration(title: otherTitle), at: at(18))
        }
        #expect(try await store.host(id: "h1")?.registration.titleId == title)

        // Without a session it can.
        try await registerHosts(store, ["h2"], from: 19)
        #expect(
            try await store.registerHost(id: "h2", registration(title: otherTitle), at: at(20)).registration.titleId
                == otherTitle)
    }

    static func deregistration(_ store: any InventoryStore) async throws {
        try await registerHosts(store, ["h1", "h2"])
        #expect(try await store.deregisterHost(id: "h1"))
        #expect(try await store.host(id: "h1") == nil)
        #expect(try await store.deregisterHost(id: "h1") == false)

        _ = try await store.claimHost(claim(sid(1), now: at(10)))
        await #expect(throws: StoreError.hostHasSession("h2", sid(1))) { try await store.deregisterHost(id: "h2") }
        #expect(try await store.host(id: "h2")?.sessionId == sid(1))

        _ = try await store.endSession(hostId: "h2", sessionId: sid(1), at: at(11))
        #expect(try await store.deregisterHost(id: "h2"))
        #expect(try await store.host(id: "h2") == nil)
    }

    // MARK: Durability

    /// Writes hosts, an Active and an Allocating session and a queued ticket, closes the store,
    /// and checks that the store `reopen` gives back (the same file, another instance) holds all
    /// of it unchanged and keeps working. Closes both stores.
    static func everythingSurvivesReopening(_ store: any InventoryStore, reopen: () async throws -> any InventoryStore)
        async throws
    {
        try await registerHosts(store, ["h1", "h2", "h3"])
        let active = try #require(try await store.claimHost(claim(sid(1), cookie: "c", now: at(10))).claimedAllocation)
        _ = try await store.confirmHandoff(hostId: active.sessionHostId, sessionId: active.sessionId, at: at(11))?
            .session
        let pending = try #require(try await store.claimHost(claim(sid(2), now: at(12))).claimedAllocation)
        let ticket = try await store.enqueueCluster(titleId: title, sessionId: clusterId(1), at: at(13))
        let hosts = try await [store.host(id: "h1"), store.host(id: "h2"), store.host(id: "h3")]
        try await store.close()

        let reopened = try await reopen()
        #expect(try await [reopened.host(id: "h1"), reopened.host(id: "h2"), reopened.host(id: "h3")] == hosts)
        var expectedActive = active
        expectedActive.state = .active
        #expect(try await reopened.allocation(titleId: title, sessionId: sid(1)) == expectedActive)
        #expect(try await reopened.allocation(titleId: title, sessionId: sid(2)) == pending)
        #expect(try await reopened.pendingHandoff(hostId: pending.sessionHostId)?.allocation == pending)
        #expect(try await reopened.ticket(titleId: title, sessionId: clusterId(1), polledAt: nil) == ticket)
        // And it keeps working: the last host is still free.
        #expect(try await reopened.claimHost(claim(sid(3), now: at(14))).claimedAllocation?.sessionHostId == "h3")
        try await reopened.close()
    }

    // MARK: Host keys

    static func hostKeys(_ store: any InventoryStore) async throws {
        // An unregistered host binds only when asked (a registration), so stray calls leave nothing.
        #expect(try await store.checkHostKey(hostId: "h1", digest: "k1", bindIfAbsent: false, at: at(0)) == .absent)
        #expect(try await store.checkHostKey(hostId: "h1", digest: "k1", bindIfAbsent: true, at: at(1)) == .bound)
        #expect(try await store.checkHostKey(hostId: "h1", digest: "k1", bindIfAbsent: true, at: at(2)) == .matched)
        #expect(try await store.checkHostKey(hostId: "h1", digest: "k2", bindIfAbsent: true, at: at(3)) == .mismatched)
        #expect(try await store.checkHostKey(hostId: "h1", digest: "k2", bindIfAbsent: false, at: at(3)) == .mismatched)
        // Keys are per host id.
        #expect(try await store.checkHostKey(hostId: "h2", digest: "k1", bindIfAbsent: true, at: at(4)) == .bound)

        // A host registered before keys existed binds the first key presented for it, on any call.
        try await registerHosts(store, ["h3"], from: 5)
        #expect(try await store.checkHostKey(hostId: "h3", digest: "k3", bindIfAbsent: false, at: at(6)) == .bound)
        #expect(
            try await store.checkHostKey(hostId: "h3", digest: "other", bindIfAbsent: false, at: at(7)) == .mismatched)

        // Deregistration frees the id for another key; a host holding a session keeps its key.
        #expect(try await store.deregisterHost(id: "h3"))
        #expect(try await store.checkHostKey(hostId: "h3", digest: "new", bindIfAbsent: false, at: at(8)) == .absent)
        #expect(try await store.checkHostKey(hostId: "h3", digest: "new", bindIfAbsent: true, at: at(8)) == .bound)
        try await registerHosts(store, ["h1"], from: 9)
        #expect(try await store.claimHost(claim(sid(1), now: at(10))).claimedAllocation?.sessionHostId == "h1")
        await #expect(throws: StoreError.hostHasSession("h1", sid(1))) { try await store.deregisterHost(id: "h1") }
        #expect(try await store.checkHostKey(hostId: "h1", digest: "k1", bindIfAbsent: true, at: at(11)) == .matched)
    }

    // MARK: Claims

    static func claimTakesLongestStandingBy(_ store: any InventoryStore) async throws {
        _ = try await store.registerHost(id: "a", registration(), at: at(2))
        _ = try await store.registerHost(id: "b", registration(), at: at(1))
        _ = try await store.registerHost(id: "c", registration(), at: at(3))
        // Host of another title, and hosts not StandingBy, are never candidates.
        _ = try await store.registerHost(id: "other", registration(title: otherTitle), at: at(0))
        _ = try await store.registerHost(id: "init", registration(state: .initializing), at: at(0))

        let cookie = "opaque cookie ✓"
        let first = try #require(
            try await store.claimHost(claim(sid(1), cookie: cookie, now: at(10))).claimedAllocation)
        #expect(
            first
                == Allocation(
                    titleId: title, sessionId: sid(1), kind: .sessionHost, state: .allocating, sessionCookie: cookie,
                    allocatedAt: at(10),
                    acknowledgeBy: at(20), sessionHostId: "b", hostName: "game.example", region: "WestUS",
                    portMappings: registration().portMappings, secureContext: "c2VjdXJl"
                ))
        #expect(try await store.allocation(titleId: title, sessionId: sid(1)) == first)
        let host = try #require(try await store.host(id: "b"))
        #expect(host.state == .allocating)
        #expect(host.sessionId == sid(1))
        #expect(host.standingBySince == nil)

        #expect(try await store.claimHost(claim(sid(2), now: at(11))).claimedAllocation?.sessionHostId == "a")
        #expect(try await store.claimHost(claim(sid(3), now: at(12))).claimedAllocation?.sessionHostId == "c")
        #expect(try await store.claimHost(claim(sid(4), now: at(13))) == .noHost)
        #expect(try await store.allocation(titleId: title, sessionId: sid(4)) == nil)
        #expect(try await hostState(store, "other") == .standingBy)
        #expect(try await hostState(store, "init") == .initializing)
    }

    static func claimLocationsInOrder(_ store: any InventoryStore) async throws {
        _ = try await store.registerHost(id: "east", registration(region: "East US"), at: at(0))
        _ = try await store.registerHost(id: "west1", registration(region: "West US"), at: at(1))
        _ = try await store.registerHost(id: "west2", registration(region: "WestUS"), at: at(2))
        _ = try await store.registerHost(id: "north", registration(region: "North Europe"), at: at(3))

        // `westus` and `West US` name the same location as `WestUS`; the first listed location
        // with a host wins even though `east` has waited longest.
        let preference = HostCriteria(locations: ["westus", "East US"])
        let first = try await store.claimHost(claim(sid(1), criteria: preference, now: at(10)))
        #expect(first.claimedAllocation?.sessionHostId == "west1")
        #expect(first.claimedAllocation?.region == "West US")
        #expect(
            try await store.claimHost(claim(sid(2), criteria: preference, now: at(10))).claimedAllocation?.sessionHostId
                == "west2")
        #expect(
            try await store.claimHost(claim(sid(3), criteria: preference, now: at(10))).claimedAllocation?.sessionHostId
                == "east")
        // Only listed locations are candidates.
        #expect(try await store.claimHost(claim(sid(4), criteria: preference, now: at(10))) == .noHost)
        #expect(
            try await store.claimHost(
                claim(sid(5), criteria: HostCriteria(locations: [" NORTH\teurope "]), now: at(10))
            )
            .claimedAllocation?.sessionHostId == "north")

        // Without locations, any region.
        _ = try await store.registerHost(id: "south", registration(region: "Brazil South"), at: at(4))
        #expect(try await store.claimHost(claim(sid(6), now: at(10))).claimedAllocation?.sessionHostId == "south")
    }

    static func claimMatchesSandboxCloudGameAndGameMode(_ store: any InventoryStore) async throws {
        // The declaring hosts have waited longest; the plain host serves any request.
        _ = try await store.registerHost(id: "sandbox", registration(sandboxId: "Sandbox.A"), at: at(0))
        _ = try await store.registerHost(id: "mode", registration(gameModeId: "Mode-1"), at: at(1))
        _ = try await store.registerHost(id: "cloud", registration(cloudGameId: "CG-7"), at: at(2))
        _ = try await store.registerHost(id: "plain", registration(), at: at(3))

        // A request without values never gets a host that declared one.
        #expect(try await store.claimHost(claim(sid(1), now: at(10))).claimedAllocation?.sessionHostId == "plain")
        #expect(try await store.claimHost(claim(sid(2), now: at(10))) == .noHost)
        // A different value does not match either.
        #expect(
            try await store.claimHost(claim(sid(3), criteria: HostCriteria(sandboxId: "Sandbox.B"), now: at(10)))
                == .noHost)
        // Values compare trimmed and ignoring case; a host that declared no game mode serves any.
        let sandboxed = HostCriteria(sandboxId: "  sandbox.a ", gameModeId: "anything")
        #expect(
            try await store.claimHost(claim(sid(4), criteria: sandboxed, now: at(10))).claimedAllocation?.sessionHostId
                == "sandbox")
        let moded = HostCriteria(sandboxId: "Sandbox.A", gameModeId: "MODE-1")
        #expect(
            try await store.claimHost(claim(sid(5), criteria: moded, now: at(10))).claimedAllocation?.sessionHostId
                == "mode")
        #expect(
            try await store.claimHost(claim(sid(6), criteria: HostCriteria(cloudGameId: "cg-7"), now: at(10)))
                .claimedAllocation?.sessionHostId == "cloud")
    }

    /// Every change of a host's session raises its revision, also within one millisecond, and a
    /// host registered anew starts above its old row; registrations and heartbeats keep it.
    static func revisionsGrowWithEveryAssignmentChange(_ store: any InventoryStore) async throws {
        var seen = try await store.registerHost(id: "h1", registration(), at: at(0)).revision
        #expect(seen == AssignmentRevision.floor(at(0)))
        func expectRaised(_ step: String) async throws {
            let revision = try #require(try await store.host(id: "h1")).revision
            #expect(revision > seen, "\(step): \(revision) after \(seen)")
            seen = revision
        }
        func expectKept(_ step: String) async throws {
            #expect(try #require(try await store.host(id: "h1")).revision == seen, "\(step)")
        }
        _ = try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .standingBy), at: at(0))
        try await expectKept("a heartbeat")
        _ = try await store.claimHost(claim(sid(1), now: at(0))) // all in the same millisecond
        try await expectRaised("claimed")
        _ = try await store.confirmHandoff(hostId: "h1", sessionId: sid(1), at: at(0))?.session
        try await expectRaised("confirmed")
        _ = try await store.confirmHandoff(hostId: "h1", sessionId: sid(1), at: at(0))?.session
        try await expectKept("confirmed again")
        _ = try await store.registerHost(id: "h1", registration(), at: at(0))
        try await expectKept("registered again while Active")
        _ = try await store.endSession(hostId: "h1", sessionId: sid(1), at: at(0))
        try await expectRaised("ended")
        _ = try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .standingBy), at: at(1))
        _ = try await store.claimHost(claim(sid(2), now: at(1)))
        try await expectRaised("claimed again")
        _ = try await store.reassignHandoff(claim(sid(2), now: at(1)), failedHostId: "h1")
        try await expectRaised("its hand-off moved on")
        _ = try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .standingBy), at: at(1))
        #expect(try await store.deregisterHost(id: "h1"))
        _ = try await store.registerHost(id: "h1", registration(), at: at(2))
        try await expectRaised("registered anew")
    }

    /// A heartbeat based on a revision older than the host's is a sign of life only.
    static func staleHeartbeatIsOnlyASignOfLife(_ store: any InventoryStore) async throws {
        let registered = try await store.registerHost(id: "h1", registration(), at: at(0))
        _ = try await store.claimHost(claim(sid(1), now: at(1)))
        _ = try await store.confirmHandoff(hostId: "h1", sessionId: sid(1), at: at(1))?.session
        _ = try await store.endSession(hostId: "h1", sessionId: sid(1), at: at(2))
        let ended = try #require(try await store.host(id: "h1"))
        #expect(ended.state == .terminating)
        // Made while the agent still held the session (it had seen the confirmation's revision
        // at most): it must not change the host's state, only say that the agent is alive.
        let late = try await store.recordHeartbeat(
            id: "h1", HostHeartbeat(state: .active, sessionId: sid(1), revision: registered.revision), at: at(3))
        #expect(late.state == .terminating)
        #expect(late.lastHeartbeat == at(3))
        #expect(late.revision == ended.revision)
        // Based on the newest revision, the report is the agent's state.
        let current = try await store.recordHeartbeat(
            id: "h1", HostHeartbeat(state: .standingBy, revision: ended.revision), at: at(4))
        #expect(current.state == .standingBy)
        // Without a basis (an older agent), as before.
        let legacy = try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .initializing), at: at(5))
        #expect(legacy.state == .initializing)
    }

    /// Hosts whose hand-off channel is down are passed over, by direct claims and by the queue.
    static func claimPassesOverUnreachableHosts(_ store: any InventoryStore) async throws {
        try await registerHosts(store, ["gone", "here", "also-gone"])
        var direct = claim(sid(1), now: at(10))
        direct.unreachableHostIds = ["gone", "also-gone"]
        #expect(try await store.claimHost(direct).claimedAllocation?.sessionHostId == "here")
        var none = claim(sid(2), now: at(10))
        none.unreachableHostIds = ["gone", "also-gone"]
        #expect(try await store.claimHost(none) == .noHost)
        var located = claim(sid(3), criteria: HostCriteria(locations: ["WestUS"]), now: at(10))
        located.unreachableHostIds = ["gone"]
        #expect(try await store.claimHost(located).claimedAllocation?.sessionHostId == "also-gone")

        try await registerHosts(store, ["q-gone", "q-here"], from: 20)
        _ = try await store.enqueueCluster(titleId: title, sessionId: clusterId(1), at: at(30))
        let taken = try await store.claimHostForQueue(
            titleId: title, now: at(30), liveSince: at(0), acknowledgeBy: at(40), excluding: ["gone", "q-gone"])
        #expect(taken?.sessionHostId == "q-here")
    }

    /// Many unreachable hosts ahead in the order, in two locations, among many more that are not
    /// candidates at all (dead hosts stay in the set): each claim still finds the first reachable.
    static func claimPassesOverManyUnreachableHosts(_ store: any InventoryStore) async throws {
        let west = (0..<40).map { "w\($0)" }
        let east = (0..<5).map { "e\($0)" }
        try await registerHosts(store, west)
        try await registerHosts(store, east, from: 100, region: "EastUS")
        let unreachable = Set(west.dropLast() + (0..<1000).map { "dead-\($0)" })
        let locations = HostCriteria(locations: ["WestUS", "EastUS"])
        var first = claim(sid(1), criteria: locations, now: at(120), liveSince: at(0))
        first.unreachableHostIds = unreachable
        #expect(try await store.claimHost(first).claimedAllocation?.sessionHostId == "w39")
        var second = claim(sid(2), criteria: locations, now: at(120), liveSince: at(0))
        second.unreachableHostIds = unreachable
        #expect(try await store.claimHost(second).claimedAllocation?.sessionHostId == "e0", "WestUS has none left")
        var anywhere = claim(sid(3), now: at(120), liveSince: at(0))
        anywhere.unreachableHostIds = unreachable.union(["e1"])
        #expect(try await store.claimHost(anywhere).claimedAllocation?.sessionHostId == "e2")
    }

    static func claimSkipsHostsNotHeardFrom(_ store: any InventoryStore) async throws {
        try await registerHosts(store, ["stale", "live"])
        _ = try await store.recordHeartbeat(id: "live", HostHeartbeat(state: .standingBy), at: at(50))
        // Live since 30: `stale` (heard at 0) has waited longer but is not a candidate.
        #expect(
            try await store.claimHost(claim(sid(1), now: at(60), liveSince: at(30))).claimedAllocation?.sessionHostId
                == "live")
        #expect(try await store.claimHost(claim(sid(2), now: at(60), liveSince: at(30))) == .noHost)
        // Exactly at the boundary counts as live.
        #expect(
            try await store.claimHost(claim(sid(3), now: at(60), liveSince: at(0))).claimedAllocation?.sessionHostId
                == "stale")
    }

    static func claimOfAnExistingSession(_ store: any InventoryStore) async throws {
        try await registerHosts(store, ["h1", "h2"])
        let claimed = try #require(
            try await store.claimHost(claim(sid(1), cookie: "first", now: at(10))).claimedAllocation)
        #expect(claimed.sessionHostId == "h1")

        // Being allocated: 409 material, nothing new allocated.
        let again = try await store.claimHost(claim(sid(1), cookie: "second", now: at(11)))
        #expect(again == .inFlight(claimed))
        #expect(try await hostState(store, "h2") == .standingBy)

        let active = try #require(try await store.confirmHandoff(hostId: "h1", sessionId: sid(1), at: at(12))?.session)
        #expect(try await store.claimHost(claim(sid(1), now: at(13))) == .active(active))
        #expect(try await hostState(store, "h2") == .standingBy)
        #expect(active.sessionCookie == "first")

        // Session ids are per title: the other title's same id is a new allocation.
        _ = try await store.registerHost(id: "o1", registration(title: otherTitle), at: at(0))
        let elsewhere = try await store.claimHost(claim(sid(1), title: otherTitle, now: at(14)))
        #expect(elsewhere.claimedAllocation?.sessionHostId == "o1")
        #expect(try await store.allocation(titleId: title, sessionId: sid(1))?.sessionHostId == "h1")
    }

    static func confirmHandoff(_ store: any InventoryStore) async throws {
        try await registerHosts(store, ["h1", "h2"])
        let claimed = try #require(try await store.claimHost(claim(sid(1), now: at(10))).claimedAllocation)
        #expect(try await store.pendingHandoff(hostId: "h1")?.allocation == claimed)
        #expect(try await store.pendingHandoff(hostId: "h1")?.hostRevision == store.host(id: "h1")?.revision)
        #expect(try await store.pendingHandoff(hostId: "h2")?.allocation == nil)

        #expect(try await store.confirmHandoff(hostId: "h2", sessionId: sid(1), at: at(11))?.session == nil)
        #expect(try await store.confirmHandoff(hostId: "h1", sessionId: sid(2), at: at(11))?.session == nil)
        #expect(try await store.confirmHandoff(hostId: "ghost", sessionId: sid(1), at: at(11))?.session == nil)
        #expect(try await store.allocation(titleId: title, sessionId: sid(1))?.state == .allocating)

        var expected = claimed
        expected.state = .active
        #expect(try await store.assignment(hostId: "h1")?.session == claimed)
        #expect(try await store.confirmHandoff(hostId: "h1", sessionId: sid(1), at: at(12))?.session == expected)
        #expect(try await store.allocation(titleId: title, sessionId: sid(1)) == expected)
        #expect(try await hostState(store, "h1") == .active)
        let assignment = try #require(try await store.assignment(hostId: "h1"))
        #expect(assignment.host == (try await store.host(id: "h1")))
        #expect(assignment.session == expected)
        #expect(try await store.assignment(hostId: "h2")?.session == nil)
        #expect(try await store.assignment(hostId: "h2")?.host.sessionHostId == "h2")
        #expect(try await store.assignment(hostId: "ghost") == nil)
        #expect(try await store.pendingHandoff(hostId: "h1")?.allocation == nil)
        // Idempotent.
        #expect(try await store.confirmHandoff(hostId: "h1", sessionId: sid(1), at: at(13))?.session == expected)
        #expect(try await hostState(store, "h1") == .active)
    }

    static func reassignToTheNextHost(_ store: any InventoryStore) async throws {
        try await registerHosts(store, ["h1", "h2"])
        let first = try #require(
            try await store.claimHost(claim(sid(1), cookie: "kept", now: at(10))).claimedAllocation)
        #expect(first.sessionHostId == "h1")

        let moved = try #require(
            try await store.reassignHandoff(claim(sid(1), cookie: "kept", now: at(20)), failedHostId: "h1")
                .claimedAllocation)
        #expect(moved.sessionHostId == "h2")
        #expect(moved.state == .allocating)
        #expect(moved.allocatedAt == at(20))
        #expect(moved.acknowledgeBy == at(30))
        #expect(moved.sessionCookie == "kept")
        #expect(try await store.allocation(titleId: title, sessionId: sid(1)) == moved)
        let failed = try #require(try await store.host(id: "h1"))
        #expect(failed.state == .unhealthy)
        #expect(failed.sessionId == nil)
        #expect(try await store.host(id: "h2")?.sessionId == sid(1))
        #expect(try await store.pendingHandoff(hostId: "h1")?.allocation == nil)
        #expect(try await store.pendingHandoff(hostId: "h2")?.allocation == moved)
        // The failed host cannot acknowledge any more.
        #expect(try await store.confirmHandoff(hostId: "h1", sessionId: sid(1), at: at(21))?.session == nil)

        // A late report about a host the session already left changes nothing.
        #expect(try await store.reassignHandoff(claim(sid(1), now: at(22)), failedHostId: "h1") == .inFlight(moved))
        // Active meanwhile: stays where it is.
        let active = try #require(try await store.confirmHandoff(hostId: "h2", sessionId: sid(1), at: at(23))?.session)
        #expect(try await store.reassignHandoff(claim(sid(1), now: at(24)), failedHostId: "h2") == .active(active))
        #expect(try await hostState(store, "h2") == .active)

        // A session that is gone is claimed afresh.
        try await registerHosts(store, ["h3"], from: 25)
        let fresh = try await store.reassignHandoff(claim(sid(2), now: at(30)), failedHostId: "h1")
        #expect(fresh.claimedAllocation?.sessionHostId == "h3")
    }

    static func reassignWithNoHostLeft(_ store: any InventoryStore) async throws {
        // A sessionhosts allocation is dropped.
        try await registerHosts(store, ["h1"])
        #expect(try await store.claimHost(claim(sid(1), now: at(10))).claimedAllocation?.sessionHostId == "h1")
        #expect(try await store.reassignHandoff(claim(sid(1), now: at(20)), failedHostId: "h1") == .noHost)
        #expect(try await store.allocation(titleId: title, sessionId: sid(1)) == nil)
        #expect(try await hostState(store, "h1") == .unhealthy)
        #expect(try await store.host(id: "h1")?.sessionId == nil)
        #expect(try await store.queueLength(titleId: title) == 0)

        // A queued cluster request goes back to the head of its queue with its first queue time.
        _ = try await store.enqueueCluster(titleId: title, sessionId: clusterId(1), at: at(30))
        _ = try await store.enqueueCluster(titleId: title, sessionId: clusterId(2), at: at(30))
        _ = try await store.enqueueCluster(titleId: title, sessionId: clusterId(3), at: at(31))
        try await registerHosts(store, ["h2"], from: 32)
        let taken = try #require(
            try await store.claimHostForQueue(titleId: title, now: at(40), liveSince: at(10), acknowledgeBy: at(50)))
        #expect(taken.sessionId == clusterId(1))
        #expect(try await store.ticket(titleId: title, sessionId: clusterId(2), polledAt: nil)?.position == 1)

        let outcome = try await store.reassignHandoff(
            claim(clusterId(1), kind: .cluster, now: at(51)), failedHostId: "h2")
        #expect(outcome == .noHost)
        #expect(try await store.allocation(titleId: title, sessionId: clusterId(1)) == nil)
        let requeued = try #require(try await store.ticket(titleId: title, sessionId: clusterId(1), polledAt: nil))
        #expect(requeued.position == 1)
        #expect(requeued.enqueuedAt == at(30))
        #expect(try await store.ticket(titleId: title, sessionId: clusterId(2), polledAt: nil)?.position == 2)
        #expect(try await store.ticket(titleId: title, sessionId: clusterId(3), polledAt: nil)?.position == 3)
        #expect(try await store.queueLength(titleId: title) == 3)

        // A cluster request fulfilled at once and then not acknowledged is put back ahead of
        // every request queued after it first asked.
        _ = try await store.registerHost(id: "h3", registration(title: otherTitle), at: at(60))
        let direct = try await store.claimHost(claim(clusterId(9), title: otherTitle, kind: .cluster, now: at(61)))
        #expect(direct.claimedAllocation?.kind == .cluster)
        #expect(direct.claimedAllocation?.sessionHostId == "h3")
        _ = try await store.enqueueCluster(titleId: otherTitle, sessionId: clusterId(10), at: at(62))
        #expect(
            try await store.reassignHandoff(
                claim(clusterId(9), title: otherTitle, kind: .cluster, now: at(72)), failedHostId: "h3") == .noHost)
        let head = try #require(try await store.ticket(titleId: otherTitle, sessionId: clusterId(9), polledAt: nil))
        #expect(head.enqueuedAt == at(61))
        #expect(head.lastPolledAt == at(72))
        #expect(head.position == 1)
        #expect(try await store.ticket(titleId: otherTitle, sessionId: clusterId(10), polledAt: nil)?.position == 2)
        #expect(try await store.ticket(titleId: title, sessionId: clusterId(1), polledAt: nil)?.position == 1)
    }

    static func endSession(_ store: any InventoryStore) async throws {
        try await registerHosts(store, ["h1", "h2"])
        _ = try await store.claimHost(claim(sid(1), now: at(10)))
        _ = try await store.confirmHandoff(hostId: "h1", sessionId: sid(1), at: at(11))?.session

        await #expect(throws: StoreError.sessionMismatch("h1", sid(2))) {
            try await store.endSession(hostId: "h1", sessionId: sid(2), at: at(12))
        }
        await #expect(throws: StoreError.sessionMismatch("h2", sid(1))) {
            try await store.endSession(hostId: "h2", sessionId: sid(1), at: at(12))
        }
        await #expect(throws: StoreError.unknownHost("ghost")) {
            try await store.endSession(hostId: "ghost", sessionId: sid(1), at: at(12))
        }
        #expect(try await store.allocation(titleId: title, sessionId: sid(1))?.state == .active)

        let ended = try await store.endSession(hostId: "h1", sessionId: sid(1), at: at(13))
        #expect(ended.state == .terminating)
        #expect(ended.sessionId == nil)
        #expect(try await store.allocation(titleId: title, sessionId: sid(1)) == nil)
        // Terminating is not StandingBy: the next claim goes to h2.
        #expect(try await store.claimHost(claim(sid(2), now: at(14))).claimedAllocation?.sessionHostId == "h2")
        #expect(try await store.claimHost(claim(sid(3), now: at(14))) == .noHost)

        // Ready again: StandingBy since now, and claimable.
        let ready = try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .standingBy), at: at(15))
        #expect(ready.state == .standingBy)
        #expect(ready.standingBySince == at(15))
        #expect(try await store.claimHost(claim(sid(3), now: at(16))).claimedAllocation?.sessionHostId == "h1")
        // The ended session's id can be allocated again.
        try await registerHosts(store, ["h3"], from: 17)
        #expect(try await store.claimHost(claim(sid(1), now: at(18))).claimedAllocation?.sessionHostId == "h3")
    }

    // MARK: Cluster queue

    static func queueOrderPositionsAndPolling(_ store: any InventoryStore) async throws {
        #expect(try await store.titlesWithQueuedClusters() == [])
        let first = try await store.enqueueCluster(titleId: title, sessionId: clusterId(1), at: at(0))
        #expect(
            first
                == ClusterTicket(
                    titleId: title, sessionId: clusterId(1), enqueuedAt: at(0), lastPolledAt: at(0), position: 1))
        #expect(try await store.enqueueCluster(titleId: title, sessionId: clusterId(2), at: at(1)).position == 2)
        // Same millisecond: in arrival order.
        #expect(try await store.enqueueCluster(titleId: title, sessionId: clusterId(3), at: at(1)).position == 3)
        #expect(try await store.enqueueCluster(titleId: otherTitle, sessionId: clusterId(1), at: at(2)).position == 1)

        // Posting again polls: never queued twice, place and first queue time kept.
        let polled = try await store.enqueueCluster(titleId: title, sessionId: clusterId(2), at: at(5))
        #expect(
            polled
                == ClusterTicket(
                    titleId: title, sessionId: clusterId(2), enqueuedAt: at(1), lastPolledAt: at(5), position: 2))
        #expect(try await store.queueLength(titleId: title) == 3)
        #expect(try await store.queueLength(titleId: otherTitle) == 1)
        #expect(try await store.queueLength(titleId: "none") == 0)
        #expect(try await store.titlesWithQueuedClusters() == [title, otherTitle].sorted())

        #expect(try await store.ticket(titleId: title, sessionId: clusterId(3), polledAt: nil)?.lastPolledAt == at(1))
        let looked = try await store.ticket(titleId: title, sessionId: clusterId(3), polledAt: at(6))
        #expect(
            looked
                == ClusterTicket(
                    titleId: title, sessionId: clusterId(3), enqueuedAt: at(1), lastPolledAt: at(6), position: 3))
        #expect(try await store.ticket(titleId: title, sessionId: clusterId(3), polledAt: nil)?.lastPolledAt == at(6))
        #expect(try await store.ticket(titleId: title, sessionId: clusterId(9), polledAt: at(6)) == nil)

        // Tickets not polled since 4 expire; the rest move up.
        let report = try await store.sweep(
            SweepPolicy(now: at(10), liveSince: at(0), handoffsDueBefore: at(0), polledSince: at(4)))
        #expect(
            Set(report.expiredTickets) == [
                SessionKey(titleId: title, sessionId: clusterId(1)),
                SessionKey(titleId: otherTitle, sessionId: clusterId(1)),
            ])
        #expect(report.expiredTickets.count == 2)
        #expect(try await store.ticket(titleId: title, sessionId: clusterId(1), polledAt: nil) == nil)
        #expect(try await store.ticket(titleId: title, sessionId: clusterId(2), polledAt: nil)?.position == 1)
        #expect(try await store.ticket(titleId: title, sessionId: clusterId(3), polledAt: nil)?.position == 2)
        #expect(try await store.titlesWithQueuedClusters() == [title])

        // An expired request that polls again queues afresh at the tail.
        #expect(try await store.enqueueCluster(titleId: title, sessionId: clusterId(1), at: at(11)).position == 3)
        // A caller who gives up withdraws its ticket; those behind move up.
        #expect(try await store.withdrawTicket(titleId: title, sessionId: clusterId(2)))
        #expect(try await store.withdrawTicket(titleId: title, sessionId: clusterId(2)) == false)
        #expect(try await store.withdrawTicket(titleId: otherTitle, sessionId: clusterId(3)) == false)
        #expect(try await store.ticket(titleId: title, sessionId: clusterId(3), polledAt: nil)?.position == 1)
        #expect(try await store.queueLength(titleId: title) == 2)
    }

    static func claimHostForQueue(_ store: any InventoryStore) async throws {
        #expect(
            try await store.claimHostForQueue(titleId: title, now: at(10), liveSince: at(0), acknowledgeBy: at(20))
                == nil)
        _ = try await store.enqueueCluster(titleId: title, sessionId: clusterId(1), at: at(1))
        _ = try await store.enqueueCluster(titleId: title, sessionId: clusterId(2), at: at(2))

        // No host: nothing taken.
        #expect(
            try await store.claimHostForQueue(titleId: title, now: at(10), liveSince: at(0), acknowledgeBy: at(20))
                == nil)
        #expect(try await store.queueLength(titleId: title) == 2)

        // Hosts that declared a sandbox, cloud game or game mode, stale hosts and other titles' hosts do not serve clusters.
        _ = try await store.registerHost(id: "sandbox", registration(sandboxId: "SB"), at: at(3))
        _ = try await store.registerHost(id: "cloud", registration(cloudGameId: "CG"), at: at(3))
        _ = try await store.registerHost(id: "mode", registration(gameModeId: "GM"), at: at(3))
        _ = try await store.registerHost(id: "stale", registration(), at: at(0))
        _ = try await store.registerHost(id: "other", registration(title: otherTitle), at: at(3))
        #expect(
            try await store.claimHostForQueue(titleId: title, now: at(10), liveSince: at(2), acknowledgeBy: at(20))
                == nil)
        #expect(try await store.queueLength(titleId: title) == 2)

        // A plain live host in any region takes the head of the queue.
        _ = try await store.registerHost(id: "plain", registration(region: "Japan East"), at: at(4))
        let taken = try #require(
            try await store.claimHostForQueue(titleId: title, now: at(10), liveSince: at(2), acknowledgeBy: at(20)))
        #expect(
            taken
                == Allocation(
                    titleId: title, sessionId: clusterId(1), kind: .cluster, state: .allocating, sessionCookie: nil,
                    allocatedAt: at(10),
                    acknowledgeBy: at(20), sessionHostId: "plain", hostName: "game.example", region: "Japan East",
                    portMappings: registration().portMappings, secureContext: "c2VjdXJl"
                ))
        #expect(try await store.allocation(titleId: title, sessionId: clusterId(1)) == taken)
        #expect(try await store.ticket(titleId: title, sessionId: clusterId(1), polledAt: nil) == nil)
        #expect(try await store.ticket(titleId: title, sessionId: clusterId(2), polledAt: nil)?.position == 1)
        #expect(try await store.host(id: "plain")?.state == .allocating)
        #expect(try await store.pendingHandoff(hostId: "plain")?.allocation == taken)
        #expect(
            try await store.claimHostForQueue(titleId: title, now: at(11), liveSince: at(2), acknowledgeBy: at(21))
                == nil)
        #expect(try await store.queueLength(titleId: title) == 1)
        // Polling the fulfilled request finds the allocation.
        #expect(try await store.claimHost(claim(clusterId(1), kind: .cluster, now: at(12))) == .inFlight(taken))
    }

    // MARK: Allocation strategy

    /// `claim` with `strategy`.
    static func claim(
        _ sessionId: String, _ strategy: AllocationStrategy, criteria: HostCriteria = HostCriteria(), now: Date
    )
        -> AllocationClaim
    {
        var made = claim(sessionId, criteria: criteria, now: now)
        made.strategy = strategy
        return made
    }

    /// Registers `host` on `vm` in `region` at `seconds`, claims a session for it (the only
    /// StandingBy host of its region) and confirms it: the host is Active.
    static func activeHost(
        _ store: any InventoryStore, _ host: String, vm: String?, region: String = "WestUS", session: String,
        at seconds: Double
    ) async throws {
        _ = try await store.registerHost(id: host, registration(region: region, vmId: vm), at: at(seconds))
        let taken = try await store.claimHost(
            claim(session, .distributed, criteria: HostCriteria(locations: [region]), now: at(seconds)))
        #expect(taken.claimedAllocation?.sessionHostId == host)
        #expect(try await store.confirmHandoff(hostId: host, sessionId: session, at: at(seconds))?.session != nil)
    }

    /// VM A holds one Active session among its three slots; VM B's three slots have all stood by
    /// longer. Packed fills A first (whole VMs empty out), distributed takes B's longest-StandingBy
    /// host; a hand-off that moves on packs too; and locations still come first.
    static func claimPacksSessionsOntoBusyVMs(_ store: any InventoryStore) async throws {
        try await activeHost(store, "a1", vm: "vm-a", session: sid(1), at: 0)
        for (offset, id) in ["b1", "b2", "b3"].enumerated() {
            _ = try await store.registerHost(id: id, registration(vmId: "vm-b"), at: at(1 + Double(offset)))
        }
        _ = try await store.registerHost(id: "a2", registration(vmId: "vm-a"), at: at(4))
        _ = try await store.registerHost(id: "a3", registration(vmId: "vm-a"), at: at(5))
        let a2 = try #require(try await store.host(id: "a2"))
        #expect(a2.registration.vmId == "vm-a")
        #expect(a2.vmId == "vm-a")

        // Packed (the default): A's slot although B's have waited longer.
        #expect(try await store.claimHost(claim(sid(2), now: at(10))).claimedAllocation?.sessionHostId == "a2")
        // Distributed: the longest-StandingBy host, on the empty VM.
        #expect(
            try await store.claimHost(claim(sid(3), .distributed, now: at(11))).claimedAllocation?.sessionHostId
                == "b1")
        // A (two sessions) before B (one).
        let third = try #require(try await store.claimHost(claim(sid(4), .packed, now: at(12))).claimedAllocation)
        #expect(third.sessionHostId == "a3")
        // A's slot does not acknowledge: the hand-off moves on, packed, and A has no free slot
        // left: B's longest-StandingBy free slot.
        let moved = try await store.reassignHandoff(claim(sid(4), .packed, now: at(20)), failedHostId: "a3")
        #expect(moved.claimedAllocation?.sessionHostId == "b2")

        // Locations strictly in order: the busy VM of the second location does not win over an
        // empty VM of the first.
        try await activeHost(store, "e1", vm: "vm-e", region: "East US", session: sid(10), at: 21)
        try await activeHost(store, "e2", vm: "vm-e", region: "East US", session: sid(11), at: 22)
        _ = try await store.registerHost(id: "e3", registration(region: "East US", vmId: "vm-e"), at: at(23))
        _ = try await store.registerHost(id: "w1", registration(vmId: "vm-w"), at: at(24))
        let westFirst = HostCriteria(locations: ["WestUS", "East US"])
        // West: vm-b (two sessions) before vm-w (none).
        #expect(
            try await store.claimHost(claim(sid(12), .packed, criteria: westFirst, now: at(25))).claimedAllocation?
                .sessionHostId == "b3")
        #expect(
            try await store.claimHost(claim(sid(13), .packed, criteria: westFirst, now: at(25))).claimedAllocation?
                .sessionHostId == "w1")
        #expect(
            try await store.claimHost(claim(sid(14), .packed, criteria: westFirst, now: at(25))).claimedAllocation?
                .sessionHostId == "e3")
    }

    /// A host registered without `vmId` is a VM of its own, whose id is its host id: it reads back
    /// without `vmId`, and a host that names that id as its VM shares it.
    static func hostWithoutVmIdIsItsOwnVM(_ store: any InventoryStore) async throws {
        try await activeHost(store, "solo", vm: nil, session: sid(1), at: 0)
        let solo = try #require(try await store.host(id: "solo"))
        #expect(solo.registration.vmId == nil)
        #expect(solo.vmId == "solo")
        // The same registration round-trips unchanged.
        #expect(solo.registration == registration())

        _ = try await store.registerHost(id: "waiting", registration(), at: at(1))
        _ = try await store.registerHost(id: "beside", registration(vmId: "solo"), at: at(2))
        // `beside` shares the busy VM `solo`; `waiting`, its own VM, is empty.
        #expect(try await store.claimHost(claim(sid(2), now: at(10))).claimedAllocation?.sessionHostId == "beside")
        #expect(try await store.host(id: "beside")?.vmId == "solo")

        // Registering again without `vmId` makes the host its own VM again.
        _ = try await store.registerHost(id: "waiting", registration(vmId: "elsewhere"), at: at(11))
        #expect(try await store.host(id: "waiting")?.registration.vmId == "elsewhere")
        let again = try await store.registerHost(id: "waiting", registration(), at: at(12))
        #expect(again.registration.vmId == nil)
        #expect(again.vmId == "waiting")
    }

    /// A host that registers again on another VM takes its session's weight with it: its old
    /// VM's free hosts no longer count as busy, its new VM's do.
    static func busyHostMovingVMsMovesItsCount(_ store: any InventoryStore) async throws {
        try await activeHost(store, "a1", vm: "vm-a", session: sid(1), at: 0)
        _ = try await store.registerHost(id: "a2", registration(vmId: "vm-a"), at: at(1))
        _ = try await store.registerHost(id: "b1", registration(vmId: "vm-b"), at: at(2))
        let moved = try await store.registerHost(id: "a1", registration(vmId: "vm-b"), at: at(3))
        #expect(moved.sessionId == sid(1))
        #expect(moved.vmId == "vm-b")
        // vm-b is the busy VM now, although a2 has waited longer.
        #expect(try await store.claimHost(claim(sid(2), .packed, now: at(10))).claimedAllocation?.sessionHostId == "b1")
    }

    /// The head of the cluster queue is packed too (and distributed when asked).
    static func queueClaimPacks(_ store: any InventoryStore) async throws {
        try await activeHost(store, "a1", vm: "vm-a", session: sid(1), at: 0)
        _ = try await store.registerHost(id: "b1", registration(vmId: "vm-b"), at: at(1))
        _ = try await store.registerHost(id: "b2", registration(vmId: "vm-b"), at: at(2))
        _ = try await store.registerHost(id: "a2", registration(vmId: "vm-a"), at: at(3))
        _ = try await store.enqueueCluster(titleId: title, sessionId: clusterId(1), at: at(4))
        _ = try await store.enqueueCluster(titleId: title, sessionId: clusterId(2), at: at(5))

        let packed = try await store.claimHostForQueue(
            titleId: title, now: at(10), liveSince: at(0), acknowledgeBy: at(20), excluding: [])
        #expect(packed?.sessionId == clusterId(1))
        #expect(packed?.sessionHostId == "a2")
        let distributed = try await store.claimHostForQueue(
            titleId: title, now: at(10), liveSince: at(0), acknowledgeBy: at(20), excluding: [],
            strategy: .distributed)
        #expect(distributed?.sessionId == clusterId(2))
        #expect(distributed?.sessionHostId == "b1")
    }

    // MARK: Upkeep

    static func sweep(_ store: any InventoryStore) async throws {
        // Heard from at 0 only: `silent` (StandingBy), `silentActive` (holding an Active session), `sick` (Unhealthy already).
        try await registerHosts(store, ["silentActive"], from: 0)
        #expect(try await store.claimHost(claim(sid(1), now: at(0))).claimedAllocation?.sessionHostId == "silentActive")
        _ = try await store.confirmHandoff(hostId: "silentActive", sessionId: sid(1), at: at(0))?.session
        _ = try await store.registerHost(id: "sick", registration(health: .unhealthy), at: at(0))

        // Hand-offs due at 20: `pending` (sessionhosts), `pendingCluster` (from the queue); `late` is due at 200.
        try await registerHosts(store, ["pending"], from: 1)
        #expect(try await store.claimHost(claim(sid(2), now: at(10))).claimedAllocation?.sessionHostId == "pending")
        _ = try await store.enqueueCluster(titleId: title, sessionId: clusterId(1), at: at(2))
        _ = try await store.enqueueCluster(titleId: title, sessionId: clusterId(2), at: at(3))
        try await registerHosts(store, ["pendingCluster"], from: 4)
        #expect(
            try await store.claimHostForQueue(titleId: title, now: at(10), liveSince: at(0), acknowledgeBy: at(20))?
                .sessionId == clusterId(1))
        try await registerHosts(store, ["late", "live"], from: 5)
        #expect(
            try await store.claimHost(
                AllocationClaim(
                    titleId: title, sessionId: sid(3), kind: .sessionHost, criteria: HostCriteria(), sessionCookie: nil,
                    now: at(10),
                    liveSince: at(0), acknowledgeBy: at(200)
                )
            ).claimedAllocation?.sessionHostId == "late")
        // Registered after the claims so that no claim took it.
        _ = try await store.registerHost(id: "silent", registration(), at: at(0))
        for id in ["pending", "pendingCluster", "late", "live"] {
            _ = try await store.recordHeartbeat(id: id, HostHeartbeat(state: .standingBy), at: at(100))
        }

        let report = try await store.sweep(
            SweepPolicy(now: at(100), liveSince: at(50), handoffsDueBefore: at(100), polledSince: at(0)))
        #expect(report.hostsMarkedUnhealthy.sorted() == ["pending", "pendingCluster", "silent", "silentActive"])
        #expect(
            Set(report.abandonedHandoffs) == [
                SessionKey(titleId: title, sessionId: sid(2)), SessionKey(titleId: title, sessionId: clusterId(1)),
            ])
        #expect(report.abandonedHandoffs.count == 2)
        #expect(report.requeuedClusters == [SessionKey(titleId: title, sessionId: clusterId(1))])
        #expect(report.expiredTickets == [])

        // Silent hosts keep their sessions.
        let silentActive = try #require(try await store.host(id: "silentActive"))
        #expect(silentActive.state == .unhealthy)
        #expect(silentActive.sessionId == sid(1))
        #expect(try await store.allocation(titleId: title, sessionId: sid(1))?.state == .active)
        #expect(try await hostState(store, "silent") == .unhealthy)
        #expect(try await hostState(store, "sick") == .unhealthy)
        // Abandoned hand-offs: host Unhealthy and free, session gone, cluster back at the head.
        for id in ["pending", "pendingCluster"] {
            let host = try #require(try await store.host(id: id))
            #expect(host.state == .unhealthy)
            #expect(host.sessionId == nil)
        }
        #expect(try await store.allocation(titleId: title, sessionId: sid(2)) == nil)
        #expect(try await store.allocation(titleId: title, sessionId: clusterId(1)) == nil)
        let requeued = try #require(try await store.ticket(titleId: title, sessionId: clusterId(1), polledAt: nil))
        #expect(requeued.position == 1)
        #expect(requeued.enqueuedAt == at(2))
        #expect(try await store.ticket(titleId: title, sessionId: clusterId(2), polledAt: nil)?.position == 2)
        // Not yet due, and live: untouched.
        #expect(try await store.allocation(titleId: title, sessionId: sid(3))?.state == .allocating)
        #expect(try await hostState(store, "late") == .allocating)
        #expect(try await hostState(store, "live") == .standingBy)

        // Nothing left to do.
        #expect(
            try await store.sweep(
                SweepPolicy(now: at(101), liveSince: at(50), handoffsDueBefore: at(101), polledSince: at(0))
            ).isEmpty)
        // A silent host that heartbeats again is ready again.
        #expect(
            try await store.recordHeartbeat(id: "silent", HostHeartbeat(state: .standingBy), at: at(102)).state
                == .standingBy)
    }

    /// A call refused inside its transaction changes nothing and leaves no transaction open.
    static func refusedCallChangesNothing(_ store: any InventoryStore) async throws {
        try await registerHosts(store, ["h1"])
        _ = try await store.claimHost(claim(sid(1), now: at(10)))
        // Refused inside the transaction after reading: nothing of it stays.
        await #expect(throws: StoreError.titleMismatch("h1")) {
            try await store.registerHost(id: "h1", registration(title: otherTitle, hostName: "x"), at: at(11))
        }
        let host = try #require(try await store.host(id: "h1"))
        #expect(host.registration.hostName == "game.example")
        #expect(host.lastHeartbeat == at(0))
        // The store is usable afterwards (no transaction left open).
        #expect(try await store.deregisterHost(id: "missing") == false)
        #expect(try await store.claimHost(claim(sid(2), now: at(12))) == .noHost)
    }

    // MARK: Concurrency

    /// 50 concurrent claims with distinct session ids on 20 hosts: 20 hosts claimed once each.
    static func concurrentClaimsDistinctSessions(_ store: any InventoryStore) async throws {
        let hostIds = (1...20).map { "host-\($0)" }
        try await registerHosts(store, hostIds)
        let outcomes = try await withThrowingTaskGroup(of: ClaimOutcome.self) { group in
            for number in 1...50 {
                group.addTask { try await store.claimHost(claim(sid(number), now: at(30))) }
            }
            return try await group.reduce(into: [ClaimOutcome]()) { $0.append($1) }
        }
        let claimed = outcomes.compactMap(\.claimedAllocation)
        #expect(claimed.count == 20)
        #expect(Set(claimed.map(\.sessionHostId)) == Set(hostIds))
        #expect(Set(claimed.map(\.sessionId)).count == 20)
        #expect(outcomes.filter { $0 == .noHost }.count == 30)
        for allocation in claimed {
            #expect(try await store.host(id: allocation.sessionHostId)?.sessionId == allocation.sessionId)
        }
    }

    /// 20 concurrent claims with one session id: exactly one host is claimed.
    static func concurrentClaimsOneSession(_ store: any InventoryStore) async throws {
        try await registerHosts(store, (1...20).map { "host-\($0)" })
        let outcomes = try await withThrowingTaskGroup(of: ClaimOutcome.self) { group in
            for _ in 1...20 {
                group.addTask { try await store.claimHost(claim(sid(1), now: at(30))) }
            }
            return try await group.reduce(into: [ClaimOutcome]()) { $0.append($1) }
        }
        let claimed = outcomes.compactMap(\.claimedAllocation)
        #expect(claimed.count == 1)
        let winner = try #require(claimed.first)
        #expect(outcomes.filter { $0 == .inFlight(winner) }.count == 19)
        var allocating = 0
        for number in 1...20 {
            if try await store.host(id: "host-\(number)")?.state == .allocating { allocating += 1 }
        }
        #expect(allocating == 1)
    }
}

extension InventoryStoreContract {
    // MARK: Metrics

    /// Host counts per title, region and state, and queue summaries, as `/metrics` reads them.
    static func hostCountsAndQueueSummaries(_ store: any InventoryStore) async throws {
        #expect(try await store.hostCounts() == [])
        #expect(try await store.queueSummaries() == [])
        try await registerHosts(store, ["w1", "w2", "w3"])
        try await registerHosts(store, ["e1"], from: 3, region: "EastUS")
        _ = try await store.registerHost(id: "o1", registration(title: otherTitle, state: .initializing), at: at(1))
        _ = try await store.registerHost(id: "w4", registration(health: .unhealthy), at: at(2))
        guard case .claimed(let allocation) = try await store.claimHost(claim(sid(1), now: at(5))) else {
            Issue.record("no host claimed")
            return
        }
        #expect(allocation.sessionHostId == "w1")
        #expect(try await store.confirmHandoff(hostId: "w1", sessionId: sid(1), at: at(6))?.session != nil)
        _ = try await store.claimHost(claim(sid(2), now: at(7)))
        let counts = try await store.hostCounts()
        let byKey = Dictionary(
            counts.map { ("\($0.titleId)/\($0.region)/\($0.state.rawValue)", $0.count) }, uniquingKeysWith: +)
        #expect(
            byKey == [
                "\(title)/WestUS/Active": 1, "\(title)/WestUS/Allocating": 1, "\(title)/WestUS/StandingBy": 1,
                "\(title)/WestUS/Unhealthy": 1, "\(title)/EastUS/StandingBy": 1, "\(otherTitle)/WestUS/Initializing": 1,
            ])
        #expect(counts.count == byKey.count, "one row per title, region and state")

        _ = try await store.enqueueCluster(titleId: title, sessionId: clusterId(1), at: at(10))
        _ = try await store.enqueueCluster(titleId: title, sessionId: clusterId(2), at: at(12))
        _ = try await store.enqueueCluster(titleId: otherTitle, sessionId: clusterId(3), at: at(11))
        // Polling does not change the first queue time.
        _ = try await store.enqueueCluster(titleId: title, sessionId: clusterId(1), at: at(20))
        let summaries = try await store.queueSummaries().sorted { $0.titleId < $1.titleId }
        #expect(
            summaries
                == [
                    QueueSummary(titleId: title, length: 2, oldestEnqueuedAt: at(10)),
                    QueueSummary(titleId: otherTitle, length: 1, oldestEnqueuedAt: at(11)),
                ].sorted { $0.titleId < $1.titleId })
    }
}

extension ClaimOutcome {
    /// The allocation when a host was claimed.
    var claimedAllocation: Allocation? {
        if case .claimed(let allocation) = self { return allocation }
        return nil
    }
}

// MARK: Fleet

extension InventoryStoreContract {
    /// A drain due `seconds` after the origin.
    static func drain(_ seconds: Double, _ source: DrainSource = .operator, _ reason: String? = nil) -> HostDrain {
        HostDrain(deadline: at(seconds), source: source, reason: reason)
    }

    static func revision(_ store: any InventoryStore, _ id: String) async throws -> Int64 {
        try #require(try await store.host(id: id)).revision
    }

    /// Draining hosts are never given a session: not by a claim, not by the queue, not when a
    /// hand-off moves on.
    static func drainingHostsAreNeverClaimed(_ store: any InventoryStore) async throws {
        // The longest-waiting hosts drain: `local` by its registration, `beat` by a heartbeat.
        _ = try await store.registerHost(
            id: "local", registration(drain: drain(3600, .local, "kernel upgrade").notice), at: at(0))
        _ = try await store.registerHost(id: "beat", registration(), at: at(1))
        _ = try await store.recordHeartbeat(
            id: "beat", HostHeartbeat(state: .standingBy, drain: drain(3600, .local).notice), at: at(2))
        try await registerHosts(store, ["free", "spare"], from: 3)
        #expect(try await store.claimHost(claim(sid(1), now: at(10))).claimedAllocation?.sessionHostId == "free")
        // An operator drains `spare`: the hand-off of `free` finds no host to move on to.
        #expect(try await store.drain(DrainScope(vmId: "spare"), drain(3600), at: at(11)) == 1)
        #expect(try await store.reassignHandoff(claim(sid(1), now: at(21)), failedHostId: "free") == .noHost)
        #expect(try await store.claimHost(claim(sid(2), now: at(22))) == .noHost)
        let located = claim(sid(3), criteria: HostCriteria(locations: ["WestUS"]), now: at(22))
        #expect(try await store.claimHost(located) == .noHost)
        var distributed = claim(sid(4), now: at(22))
        distributed.strategy = .distributed
        #expect(try await store.claimHost(distributed) == .noHost)
        // The queue passes over them too.
        _ = try await store.enqueueCluster(titleId: title, sessionId: clusterId(1), at: at(23))
        #expect(
            try await store.claimHostForQueue(titleId: title, now: at(24), liveSince: at(0), acknowledgeBy: at(34))
                == nil)
        for id in ["local", "beat", "spare"] {
            let host = try #require(try await store.host(id: id))
            #expect(host.state == .standingBy, "\(id)")
            #expect(host.sessionId == nil, "\(id)")
        }
        // A host without a drain is served at once.
        try await registerHosts(store, ["fresh"], from: 25)
        #expect(
            try await store.claimHostForQueue(titleId: title, now: at(26), liveSince: at(0), acknowledgeBy: at(36))?
                .sessionHostId == "fresh")
    }

    /// A registration's or a heartbeat's drain is taken by a host without one; an earlier deadline
    /// replaces a later one; it stays until the host deregisters. `drained` is the last heartbeat's.
    static func registrationAndHeartbeatDrains(_ store: any InventoryStore) async throws {
        let kernel = drain(100, .local, "kernel upgrade")
        let registered = try await store.registerHost(id: "h1", registration(drain: kernel.notice), at: at(0))
        #expect(registered.drain == kernel)
        #expect(registered.state == .standingBy)
        #expect(registered.drained == false)
        // Kept by a registration without one, and by one with a later deadline; replaced by an earlier one.
        #expect(try await store.registerHost(id: "h1", registration(), at: at(1)).drain == kernel)
        #expect(
            try await store.registerHost(id: "h1", registration(drain: drain(200, .operator).notice), at: at(2)).drain
                == kernel)
        let sooner = drain(50, .operator, "sooner")
        #expect(try await store.registerHost(id: "h1", registration(drain: sooner.notice), at: at(3)).drain == sooner)
        // Heartbeats keep it; `drained` is what the last one said (false when absent).
        let plain = try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .standingBy), at: at(4))
        #expect(plain.drain == sooner)
        #expect(plain.drained == false)
        let drained = try await store.recordHeartbeat(
            id: "h1", HostHeartbeat(state: .standingBy, drain: kernel.notice, drained: true), at: at(5))
        #expect(drained.drain == sooner)
        #expect(drained.drained)
        #expect(try await store.host(id: "h1")?.drained == true)
        #expect(
            try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .standingBy), at: at(6)).drained == false)

        // A heartbeat's drain, also one based on an older revision (a sign of life that still drains).
        _ = try await store.registerHost(id: "h2", registration(), at: at(7))
        #expect(try await store.host(id: "h2")?.drain == nil)
        let beat = try await store.recordHeartbeat(
            id: "h2", HostHeartbeat(state: .standingBy, drain: kernel.notice), at: at(8))
        #expect(beat.drain == kernel)
        _ = try await store.registerHost(id: "h3", registration(), at: at(9))
        let stale = try await store.recordHeartbeat(
            id: "h3", HostHeartbeat(state: .standingBy, revision: 1, drain: kernel.notice), at: at(10))
        #expect(stale.drain == kernel)

        // Deregistered and registered anew, the host starts without a drain.
        #expect(try await store.deregisterHost(id: "h1"))
        let again = try await store.registerHost(id: "h1", registration(), at: at(11))
        #expect(again.drain == nil)
        #expect(again.drained == false)
    }

    /// An operator's drain covers the hosts matching its scope now, and those registering under it
    /// until its deadline; each host changed gets a larger revision; the earliest deadline wins.
    static func scopeDrains(_ store: any InventoryStore) async throws {
        _ = try await store.registerHost(id: "w1", registration(vmId: "vm1"), at: at(0))
        _ = try await store.registerHost(id: "w2", registration(vmId: "vm2"), at: at(0))
        _ = try await store.registerHost(id: "e1", registration(region: "East US"), at: at(0))
        _ = try await store.registerHost(id: "o1", registration(title: otherTitle), at: at(0))
        var revisions: [String: Int64] = [:]
        for id in ["w1", "w2", "e1", "o1"] { revisions[id] = try await revision(store, id) }

        let maintenance = drain(100, .operator, "maintenance")
        #expect(try await store.drain(DrainScope(titleId: title, region: " west us "), maintenance, at: at(10)) == 2)
        for id in ["w1", "w2"] {
            let host = try #require(try await store.host(id: id))
            #expect(host.drain == maintenance, "\(id)")
            #expect(host.revision > revisions[id] ?? .max, "\(id)")
            revisions[id] = host.revision
        }
        for id in ["e1", "o1"] {
            let host = try #require(try await store.host(id: id))
            #expect(host.drain == nil, "\(id)")
            #expect(host.revision == revisions[id], "\(id)")
        }

        // Hosts registering under the scope before its deadline are drained; others are not.
        #expect(try await store.registerHost(id: "w3", registration(vmId: "vm3"), at: at(20)).drain == maintenance)
        #expect(try await store.registerHost(id: "e2", registration(region: "East US"), at: at(20)).drain == nil)

        // An earlier deadline replaces a later one; a later one changes nothing, and no revision.
        let urgent = drain(50, .operator, "urgent")
        #expect(try await store.drain(DrainScope(vmId: "vm1"), urgent, at: at(30)) == 1)
        #expect(try await store.host(id: "w1")?.drain == urgent)
        #expect(try await revision(store, "w1") > revisions["w1"] ?? .max)
        let relaxed = drain(300, .operator, "relaxed")
        #expect(try await store.drain(DrainScope(region: "WestUS"), relaxed, at: at(40)) == 4)
        #expect(try await store.host(id: "w1")?.drain == urgent)
        #expect(try await store.host(id: "w2")?.drain == maintenance)
        #expect(try await revision(store, "w2") == revisions["w2"])
        // `o1` (another title, West US) had none: it takes the relaxed one.
        #expect(try await store.host(id: "o1")?.drain == relaxed)

        // Registering: the earliest deadline still ahead (vm1's urgent one has passed at 60).
        #expect(try await store.registerHost(id: "w4", registration(vmId: "vm1"), at: at(60)).drain == maintenance)
        #expect(try await store.registerHost(id: "w5", registration(), at: at(150)).drain == relaxed)
        // Not after the deadline.
        #expect(try await store.registerHost(id: "w6", registration(), at: at(300)).drain == nil)

        // A sweep deletes the scopes whose deadline passed: a registration dated before it (a
        // clock behind) finds none.
        _ = try await store.sweep(
            SweepPolicy(now: at(310), liveSince: at(0), handoffsDueBefore: at(0), polledSince: at(0)))
        #expect(try await store.registerHost(id: "w7", registration(), at: at(250)).drain == nil)
    }

    /// Shutting a session down removes it and leaves its host Terminating.
    static func shutdownSession(_ store: any InventoryStore) async throws {
        try await registerHosts(store, ["h1", "h2"])
        #expect(try await store.claimHost(claim(sid(1), now: at(10))).claimedAllocation?.sessionHostId == "h1")
        #expect(try await store.claimHost(claim(sid(2), now: at(10))).claimedAllocation?.sessionHostId == "h2")
        _ = try await store.confirmHandoff(hostId: "h2", sessionId: sid(2), at: at(11))
        _ = try await store.recordHeartbeat(
            id: "h2", HostHeartbeat(state: .active, sessionId: sid(2), players: [Player(playerId: "p1")]), at: at(12))
        #expect(try await store.host(id: "h2")?.players == [Player(playerId: "p1")])

        // Unknown sessions: nil, nothing changed.
        #expect(try await store.shutdownSession(titleId: title, sessionId: sid(9), at: at(13)) == nil)
        #expect(try await store.shutdownSession(titleId: otherTitle, sessionId: sid(2), at: at(13)) == nil)
        #expect(try await hostState(store, "h2") == .active)

        // Allocating.
        let before1 = try await revision(store, "h1")
        let allocating = try #require(try await store.shutdownSession(titleId: title, sessionId: sid(1), at: at(14)))
        #expect(allocating.sessionHostId == "h1")
        #expect(allocating.state == .terminating)
        #expect(allocating.sessionId == nil)
        #expect(allocating.revision > before1)
        #expect(try await store.host(id: "h1") == allocating)
        #expect(try await store.allocation(titleId: title, sessionId: sid(1)) == nil)
        #expect(try await store.pendingHandoff(hostId: "h1") == nil)

        // Active, with players: they go with the session.
        let before2 = try await revision(store, "h2")
        let active = try #require(try await store.shutdownSession(titleId: title, sessionId: sid(2), at: at(15)))
        #expect(active.sessionHostId == "h2")
        #expect(active.state == .terminating)
        #expect(active.sessionId == nil)
        #expect(active.players == nil)
        #expect(active.revision > before2)
        #expect(try await store.allocation(titleId: title, sessionId: sid(2)) == nil)
        #expect(try await store.shutdownSession(titleId: title, sessionId: sid(2), at: at(16)) == nil)
        // The agent's end of it comes too late.
        await #expect(throws: StoreError.sessionMismatch("h2", sid(2))) {
            try await store.endSession(hostId: "h2", sessionId: sid(2), at: at(17))
        }
        // Until its agent reports StandingBy again.
        #expect(
            try await store.recordHeartbeat(id: "h2", HostHeartbeat(state: .standingBy), at: at(18)).state
                == .standingBy)
    }

    /// A game's players are recorded only for the session its host holds, and cleared whenever
    /// that session ends or leaves the host.
    static func playersFollowTheSession(_ store: any InventoryStore) async throws {
        let players = [Player(playerId: "p1"), Player(playerId: "p2")]
        try await registerHosts(store, ["h1", "h2"])
        _ = try await store.claimHost(claim(sid(1), now: at(10)))
        _ = try await store.confirmHandoff(hostId: "h1", sessionId: sid(1), at: at(10))
        // Not for another session, nor without one.
        let other = try await store.recordHeartbeat(
            id: "h1", HostHeartbeat(state: .active, sessionId: sid(7), players: players), at: at(11))
        #expect(other.players == nil)
        let free = try await store.recordHeartbeat(
            id: "h2", HostHeartbeat(state: .standingBy, players: players), at: at(11))
        #expect(free.players == nil)
        let recorded = try await store.recordHeartbeat(
            id: "h1", HostHeartbeat(state: .active, sessionId: sid(1), players: players), at: at(12))
        #expect(recorded.players == players)
        // A heartbeat without players keeps them; an empty list is a list.
        #expect(
            try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .active, sessionId: sid(1)), at: at(13))
                .players == players)
        #expect(
            try await store.recordHeartbeat(
                id: "h1", HostHeartbeat(state: .active, sessionId: sid(1), players: []), at: at(14)
            ).players == [])
        _ = try await store.recordHeartbeat(
            id: "h1", HostHeartbeat(state: .active, sessionId: sid(1), players: players), at: at(15))
        // Ended: cleared.
        #expect(try await store.endSession(hostId: "h1", sessionId: sid(1), at: at(16)).players == nil)

        // Moved away after a missed acknowledgement: cleared.
        _ = try await store.recordHeartbeat(id: "h1", HostHeartbeat(state: .standingBy), at: at(17))
        #expect(try await store.claimHost(claim(sid(2), now: at(18))).claimedAllocation?.sessionHostId == "h2")
        _ = try await store.recordHeartbeat(
            id: "h2", HostHeartbeat(state: .allocating, sessionId: sid(2), players: players), at: at(19))
        #expect(try await store.host(id: "h2")?.players == players)
        #expect(
            try await store.reassignHandoff(claim(sid(2), now: at(29)), failedHostId: "h2").claimedAllocation?
                .sessionHostId == "h1")
        #expect(try await store.host(id: "h2")?.players == nil)

        // Abandoned by a sweep: cleared.
        _ = try await store.recordHeartbeat(
            id: "h1", HostHeartbeat(state: .allocating, sessionId: sid(2), players: players), at: at(30))
        #expect(try await store.host(id: "h1")?.players == players)
        _ = try await store.sweep(
            SweepPolicy(now: at(60), liveSince: at(0), handoffsDueBefore: at(60), polledSince: at(0)))
        let swept = try #require(try await store.host(id: "h1"))
        #expect(swept.sessionId == nil)
        #expect(swept.players == nil)
    }

    /// Hosts and sessions listed by filter, in order, page by page.
    static func listing(_ store: any InventoryStore) async throws {
        // Titles, regions, VMs, states and drains mixed; ids not in registration order.
        _ = try await store.registerHost(id: "h5", registration(vmId: "vmA"), at: at(0))
        _ = try await store.registerHost(id: "h2", registration(vmId: "vmA"), at: at(1))
        _ = try await store.registerHost(id: "h4", registration(region: "East US", vmId: "vmB"), at: at(2))
        _ = try await store.registerHost(id: "h1", registration(title: otherTitle), at: at(3))
        _ = try await store.registerHost(id: "h3", registration(state: .initializing), at: at(4))
        _ = try await store.registerHost(id: "h6", registration(vmId: "vmA"), at: at(5))
        #expect(try await store.drain(DrainScope(vmId: "h3"), drain(3600), at: at(6)) == 1)
        // Sessions: h5 (Active, players), h2 (Allocating), h4 (Active), h1 (other title).
        #expect(try await store.claimHost(claim(sid(3), now: at(10))).claimedAllocation?.sessionHostId == "h5")
        #expect(try await store.claimHost(claim(sid(1), now: at(10))).claimedAllocation?.sessionHostId == "h2")
        #expect(try await store.claimHost(claim(sid(2), now: at(10))).claimedAllocation?.sessionHostId == "h6")
        #expect(try await store.claimHost(claim(sid(4), now: at(10))).claimedAllocation?.sessionHostId == "h4")
        #expect(
            try await store.claimHost(claim(sid(1), title: otherTitle, now: at(10))).claimedAllocation?.sessionHostId
                == "h1")
        for (host, session) in [("h5", sid(3)), ("h4", sid(4))] {
            _ = try await store.confirmHandoff(hostId: host, sessionId: session, at: at(11))
        }
        _ = try await store.recordHeartbeat(
            id: "h5",
            HostHeartbeat(
                state: .active, sessionId: sid(3), players: [Player(playerId: "p1"), Player(playerId: "p10")]),
            at: at(12))
        _ = try await store.recordHeartbeat(
            id: "h4", HostHeartbeat(state: .active, sessionId: sid(4), players: [Player(playerId: "p2")]), at: at(12))

        // Hosts, every page.
        func hostIds(_ filter: HostFilter, after: String? = nil, limit: Int = 100) async throws -> [String] {
            try await store.listHosts(filter, after: after, limit: limit).map(\.sessionHostId)
        }
        var paged: [String] = []
        var after: String?
        while true {
            let page = try await hostIds(HostFilter(), after: after, limit: 4)
            #expect(page.count <= 4)
            paged += page
            guard page.count == 4, let last = page.last else { break }
            after = last
        }
        #expect(paged == ["h1", "h2", "h3", "h4", "h5", "h6"])
        #expect(try await hostIds(HostFilter(), after: "h2", limit: 2) == ["h3", "h4"])
        #expect(try await hostIds(HostFilter(), after: "h6") == [])
        #expect(try await hostIds(HostFilter(), limit: 0) == [])
        #expect(try await hostIds(HostFilter(titleId: title)) == ["h2", "h3", "h4", "h5", "h6"])
        #expect(try await hostIds(HostFilter(titleId: otherTitle)) == ["h1"])
        #expect(try await hostIds(HostFilter(region: " EAST us")) == ["h4"])
        #expect(try await hostIds(HostFilter(region: "westus")) == ["h1", "h2", "h3", "h5", "h6"])
        #expect(try await hostIds(HostFilter(state: .active)) == ["h4", "h5"])
        #expect(try await hostIds(HostFilter(state: .allocating)) == ["h1", "h2", "h6"])
        #expect(try await hostIds(HostFilter(vmId: "vmA")) == ["h2", "h5", "h6"])
        #expect(try await hostIds(HostFilter(draining: true)) == ["h3"])
        #expect(try await hostIds(HostFilter(draining: false)) == ["h1", "h2", "h4", "h5", "h6"])
        #expect(
            try await hostIds(HostFilter(titleId: title, region: "West US", vmId: "vmA"), after: "h2") == ["h5", "h6"])
        #expect(try await hostIds(HostFilter(state: .initializing, draining: false)) == [])
        let listed = try #require(try await store.listHosts(HostFilter(vmId: "vmA"), after: "h4", limit: 1).first)
        #expect(try await store.host(id: "h5") == listed)
        #expect(listed.players == [Player(playerId: "p1"), Player(playerId: "p10")])

        // Sessions, by title then session id, every page.
        func sessionKeys(_ filter: SessionFilter, after: SessionCursor? = nil, limit: Int = 100) async throws
            -> [String]
        {
            try await store.listSessions(filter, after: after, limit: limit).map {
                "\($0.allocation.titleId)/\($0.allocation.sessionId)"
            }
        }
        let all = [
            "\(title)/\(sid(1))", "\(title)/\(sid(2))", "\(title)/\(sid(3))", "\(title)/\(sid(4))",
            "\(otherTitle)/\(sid(1))",
        ]
        var sessions: [String] = []
        var cursor: SessionCursor?
        while true {
            let page = try await store.listSessions(SessionFilter(), after: cursor, limit: 2)
            sessions += page.map { "\($0.allocation.titleId)/\($0.allocation.sessionId)" }
            guard page.count == 2, let last = page.last else { break }
            cursor = SessionCursor(titleId: last.allocation.titleId, sessionId: last.allocation.sessionId)
        }
        #expect(sessions == all)
        #expect(
            try await sessionKeys(SessionFilter(), after: SessionCursor(titleId: title, sessionId: sid(4))) == [
                "\(otherTitle)/\(sid(1))"
            ])
        #expect(try await sessionKeys(SessionFilter(), limit: 0) == [])
        #expect(try await sessionKeys(SessionFilter(titleId: otherTitle)) == ["\(otherTitle)/\(sid(1))"])
        #expect(try await sessionKeys(SessionFilter(region: "east us")) == ["\(title)/\(sid(4))"])
        #expect(try await sessionKeys(SessionFilter(vmId: "vmA")) == Array(all[0...2]))
        #expect(try await sessionKeys(SessionFilter(titleId: title, vmId: "h1")) == [])
        // Players are matched exactly, not as text.
        #expect(try await sessionKeys(SessionFilter(playerId: "p1")) == ["\(title)/\(sid(3))"])
        #expect(try await sessionKeys(SessionFilter(playerId: "p10")) == ["\(title)/\(sid(3))"])
        #expect(try await sessionKeys(SessionFilter(playerId: "p2")) == ["\(title)/\(sid(4))"])
        #expect(try await sessionKeys(SessionFilter(playerId: "p")) == [])
        #expect(try await sessionKeys(SessionFilter(playerId: "playerId")) == [])
        #expect(try await sessionKeys(SessionFilter(region: "WestUS", playerId: "p2")) == [])

        // One session with its host's VM and players.
        let one = try #require(try await store.sessionListing(titleId: title, sessionId: sid(3)))
        #expect(
            one
                == SessionListing(
                    allocation: try #require(try await store.allocation(titleId: title, sessionId: sid(3))),
                    vmId: "vmA",
                    players: [Player(playerId: "p1"), Player(playerId: "p10")]))
        #expect(try await store.sessionListing(titleId: title, sessionId: sid(1))?.allocation.state == .allocating)
        #expect(try await store.sessionListing(titleId: otherTitle, sessionId: sid(1))?.vmId == "h1")
        #expect(try await store.sessionListing(titleId: otherTitle, sessionId: sid(2)) == nil)
        #expect(
            try await store.listSessions(SessionFilter(titleId: otherTitle), after: nil, limit: 5).first?.players == nil
        )
    }

    /// Per title and region: hosts not draining by state, draining hosts, VMs and the largest VM.
    static func fleetCounts(_ store: any InventoryStore) async throws {
        #expect(try await store.fleetCounts() == [])
        // West US: vm1 has three hosts (one Active, one StandingBy, one draining), vm2 two
        // draining hosts, `solo` is a VM of its own (Initializing).
        _ = try await store.registerHost(id: "v1-active", registration(vmId: "vm1"), at: at(0))
        _ = try await store.registerHost(id: "v1-idle", registration(vmId: "vm1"), at: at(1))
        _ = try await store.registerHost(
            id: "v1-draining", registration(vmId: "vm1", drain: drain(3600, .local).notice), at: at(2))
        _ = try await store.registerHost(id: "v2-a", registration(vmId: "vm2"), at: at(3))
        _ = try await store.registerHost(id: "v2-b", registration(vmId: "vm2", state: .initializing), at: at(4))
        _ = try await store.registerHost(id: "solo", registration(state: .initializing), at: at(5))
        // East US: one host; the other title: one Unhealthy host in West US.
        _ = try await store.registerHost(id: "east", registration(region: "East US"), at: at(6))
        _ = try await store.registerHost(id: "other", registration(title: otherTitle, health: .unhealthy), at: at(7))
        #expect(try await store.claimHost(claim(sid(1), now: at(10))).claimedAllocation?.sessionHostId == "v1-active")
        _ = try await store.confirmHandoff(hostId: "v1-active", sessionId: sid(1), at: at(10))
        #expect(try await store.drain(DrainScope(vmId: "vm2"), drain(3600), at: at(11)) == 2)

        #expect(
            try await store.fleetCounts() == [
                RegionFleetCount(
                    titleId: title, region: "East US", hosts: [.standingBy: 1], drainingHosts: 0, vms: 1,
                    drainingVMs: 0, largestVM: 1),
                RegionFleetCount(
                    titleId: title, region: "WestUS", hosts: [.active: 1, .standingBy: 1, .initializing: 1],
                    drainingHosts: 3, vms: 2, drainingVMs: 2, largestVM: 3),
                RegionFleetCount(
                    titleId: otherTitle, region: "WestUS", hosts: [.unhealthy: 1], drainingHosts: 0, vms: 1,
                    drainingVMs: 0, largestVM: 1),
            ])
    }

    /// What the migration tests of both stores wrote with schema version 4 (`h1` StandingBy and
    /// `h2` holding the Active session `sid(1)`, both on `vm1`), checked after version 5.
    static func version4RowsKept(_ store: any InventoryStore) async throws {
        let idle = try #require(try await store.host(id: "h1"))
        #expect(idle.state == .standingBy)
        #expect(idle.vmId == "vm1")
        #expect(idle.revision == 5)
        #expect(idle.drain == nil)
        #expect(idle.drained == false)
        #expect(idle.players == nil)
        let busy = try #require(try await store.host(id: "h2"))
        #expect(busy.state == .active)
        #expect(busy.sessionId == sid(1))
        #expect(busy.players == nil)
        let listing = try #require(try await store.sessionListing(titleId: title, sessionId: sid(1)))
        #expect(listing.allocation.sessionHostId == "h2")
        #expect(listing.allocation.state == .active)
        #expect(listing.vmId == "vm1")
        // The new columns work on the old rows.
        #expect(try await store.listHosts(HostFilter(draining: false), after: nil, limit: 10).count == 2)
        #expect(try await store.fleetCounts().first?.largestVM == 2)
        #expect(try await store.drain(DrainScope(vmId: "vm1"), drain(3600), at: at(1)) == 2)
        #expect(try await store.host(id: "h1")?.drain == drain(3600))
        #expect(try await store.claimHost(claim(sid(2), now: at(2))) == .noHost)
    }
}
