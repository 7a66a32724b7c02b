import Foundation
import Logging
@testable import SessionHostAgent
import SessionHostModel
import Testing

/// The drain's deadline and Drained, in process on a manual clock: no test sleeps.
@Suite("Drain: deadline, Drained, what gsmsd and the game are told")
struct DrainDeadlineTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("at the deadline the agent ends the running session as the game would, then the VM is Drained")
    func deadlineEndsSession() async throws {
        let clock = ManualClock(startDate: Self.start)
        let fixture = try AgentFixture(clock: clock)
        let drains = DrainCoordinator(
            agents: [fixture.agent], store: DrainStore(directory: fixture.store.directory), record: nil,
            logger: Self.logger, clock: clock, wallClock: clock.wallClock)
        let running = Task { try await drains.run() }
        defer { running.cancel() }
        _ = try await fixture.agent.ready()
        _ = try await fixture.agent.allocate(AllocationRequest(sessionId: AgentFixture.sessionId))
        let events = await fixture.agent.events()

        let notice = try await drains.requestLocalDrain(DrainCommandRequest(deadlineSeconds: 60))
        #expect(notice.deadlineDate == Self.start.addingTimeInterval(60))
        // The coordinator sleeps until the deadline.
        try await clock.advance(by: .seconds(59), afterSleepers: 1)
        #expect(fixture.agent.sessionInfo().sessionId == AgentFixture.sessionId, "59 s: the session still runs")
        #expect(await drains.isDrained == false)
        clock.advance(by: .seconds(2))

        let ended = try await first(events) { $0.state == .terminating }
        #expect(ended.reason == "drain deadline passed: the agent ended the session")
        #expect(ended.drain == notice)
        #expect(fixture.agent.sessionInfo().sessionId == nil)
        #expect(await fixture.agent.unreportedEnd == AgentFixture.sessionId, "the end path: gsmsd is told")
        let drained = try await first(events) { $0.reason?.hasPrefix("drained") == true }
        #expect(drained.drain == notice)
        #expect(fixture.agent.drainStanding.drained)
        #expect(await fixture.agent.heartbeatReport().drained == true)
        #expect(
            await SystemdStatusService.statusText(of: [fixture.agent])
                == "Drained: the slot is idle; the VM can be removed")
    }

    @Test("a slot that ends its session before the deadline makes the VM Drained at once; STATUS= says Draining before")
    func drainedWhenIdle() async throws {
        let clock = ManualClock(startDate: Self.start)
        let slots = [try AgentFixture(clock: clock), try AgentFixture(hostId: "second", clock: clock)]
        let agents = slots.map(\.agent)
        let drains = DrainCoordinator(
            agents: agents, store: nil, record: nil, logger: Self.logger, clock: clock, wallClock: clock.wallClock)
        let running = Task { try await drains.run() }
        defer { running.cancel() }
        _ = try await agents[0].ready()
        _ = try await agents[0].allocate(AllocationRequest(sessionId: AgentFixture.sessionId))
        let events = await agents[1].events()
        try await drains.requestLocalDrain(DrainCommandRequest(deadlineSeconds: 3600, reason: "scale-in"))
        try await clock.waitForSleepers(1)
        #expect(await drains.isDrained == false)
        let status = await SystemdStatusService.statusText(of: agents)
        #expect(status.hasPrefix("Draining until "), "\(status)")
        #expect(status.contains("2 slots: 1 Initializing, 1 Active"), "\(status)")

        _ = try await agents[0].endSession()
        _ = try await first(events) { $0.reason?.hasPrefix("drained") == true }
        #expect(await SystemdStatusService.statusText(of: agents) == "Drained: all 2 slots idle; the VM can be removed")
        #expect(agents.allSatisfy { $0.drainStanding.drained })
        let text = String(
            decoding: AgentMetrics().scrape(
                hosts: [(1, "a", .standingBy)], titleId: "t", region: "r", drain: agents[0].drainStanding),
            as: UTF8.self)
        #expect(text.split(separator: "\n").contains("sessionhost_agent_drained 1.0"), "\(text)")
        #expect(text.split(separator: "\n").contains("sessionhost_agent_draining 1.0"), "\(text)")
        let idle = String(
            decoding: AgentMetrics().scrape(hosts: [(1, "a", .standingBy)], titleId: "t", region: "r"), as: UTF8.self)
        #expect(idle.split(separator: "\n").contains("sessionhost_agent_draining 0.0"), "\(idle)")
    }

    @Test("heartbeats carry the drain, drained and the session's players (at most 256, only valid ids); none without")
    func heartbeatReport() async throws {
        let fixture = try AgentFixture()
        let agent = fixture.agent
        _ = try await agent.ready()
        var report = await agent.heartbeatReport()
        #expect(report == HostHeartbeat(state: .standingBy), "unchanged without a drain or players")
        _ = try await agent.allocate(AllocationRequest(sessionId: AgentFixture.sessionId))
        let players = [Player(playerId: "")] + (1...300).map { Player(playerId: "p\($0)") }
        _ = try await agent.heartbeat(HeartbeatRequest(players: players))
        report = await agent.heartbeatReport()
        #expect(report.players?.count == HostHeartbeat.maximumPlayers)
        #expect(report.players?.first?.playerId == "p1")
        #expect(throws: Never.self) { try report.validate() }
        _ = try await agent.heartbeat(HeartbeatRequest(players: []))
        #expect(await agent.heartbeatReport().players == nil)

        let drains = DrainCoordinator(agents: [agent], store: nil, record: nil, logger: Self.logger)
        let notice = try await drains.requestLocalDrain(DrainCommandRequest(deadlineSeconds: 120))
        report = await agent.heartbeatReport()
        #expect(report.drain == notice)
        #expect(report.drained == nil, "not drained while the session runs")
        #expect(await agent.registration().drain == notice)
    }

    @Test("GSDK: the heartbeat answer's nextScheduledMaintenanceUtc is the drain's deadline, absent without a drain")
    func gsdkMaintenance() async throws {
        let fixture = try AgentFixture()
        let frontEnd = GSDKFrontEnd(agent: fixture.agent, logger: Self.logger)
        var answer = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        #expect(answer.nextScheduledMaintenanceUtc == nil)
        let encoder = JSONEncoder()
        #expect(!String(decoding: try encoder.encode(answer), as: UTF8.self).contains("Maintenance"))

        let drains = DrainCoordinator(agents: [fixture.agent], store: nil, record: nil, logger: Self.logger)
        let deadline = Date(timeIntervalSince1970: 1_900_000_000.25)
        await drains.adoptFromControlPlane(
            DrainNotice(deadline: DrainNotice.timestamp(deadline), source: .operator, reason: "maintenance"))
        answer = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        #expect(answer.nextScheduledMaintenanceUtc == "2030-03-17T17:46:40Z")
        #expect(answer.operation == .continue, "a StandingBy game server stays StandingBy")
        let json = String(decoding: try encoder.encode(answer), as: UTF8.self)
        #expect(json.contains(#""nextScheduledMaintenanceUtc":"2030-03-17T17:46:40Z""#), "\(json)")
    }

    @Test(
        "a drain from gsmsd that is not valid is ignored; an agent restarted with a drain shows it from the first event"
    )
    func invalidAndRestored() async throws {
        let fixture = try AgentFixture()
        let drains = DrainCoordinator(agents: [fixture.agent], store: nil, record: nil, logger: Self.logger)
        await drains.adoptFromControlPlane(DrainNotice(deadline: "tomorrow", source: .operator))
        #expect(fixture.agent.drain == nil)

        let notice = DrainNotice(deadline: "2030-01-01T00:00:00.000Z", source: .local)
        let restarted = try HostAgent(
            identity: fixture.agent.identity, configuredHostId: nil, derivedHostId: { "x" }, healthTimeout: nil,
            store: fixture.store, logger: Self.logger, drain: notice)
        let event = try await first(await restarted.events()) { _ in true }
        #expect(event.drain == notice)
        #expect(event.reason == "agent restarted with saved state", "a restart announces no new drain")
        #expect(restarted.hostInfo(in: .initializing).drain == notice)
    }
}
