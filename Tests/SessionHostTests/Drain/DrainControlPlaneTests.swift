import Foundation
import SessionHostModel
import SessionHostSDK
import Testing

/// A real sessionhostd against a fake gsmsd whose answers the test scripts: the drain gsmsd puts
/// in its answers, what the heartbeats carry, and a session gsmsd shuts down.
@Suite("Drain: with gsmsd (a scripted fake)", .serialized)
struct DrainControlPlaneTests {
    static func agent(_ gsms: FakeGSMS) async throws -> AgentProcess {
        let directory = try TemporaryDirectory()
        let secretFile = directory.file("fleet.token")
        try Data(String(repeating: "s", count: 40).utf8).write(to: URL(fileURLWithPath: secretFile))
        // The agent keeps the directory (and the token file in it) for its restarts.
        let agent = try AgentProcess(
            directory: directory,
            arguments: [
                "--control-plane", gsms.url, "--agent-token-file", secretFile, "--title-id", "1234", "--host-id",
                "vm-1", "--region", "WestUS", "--health-timeout", "0",
            ])
        try await agent.waitForReady()
        return agent
    }

    @Test(
        "a session gsmsd shuts down: the game's event says so, GET /v1/session shows Terminating without it; heartbeats carried its players"
    )
    func shutDownByGSMS() async throws {
        let gsms = try await FakeGSMS()
        let agent = try await Self.agent(gsms)
        let game = AgentClient(socketPath: agent.socketPath)
        _ = try await game.ready()
        try await gsms.waitFor("a heartbeat saying StandingBy") { $0.heartbeat?.state == .standingBy }
        #expect(gsms.heartbeats.allSatisfy { $0.players == nil && $0.drain == nil && $0.drained == nil })

        gsms.assign(AgentFixture.sessionId)
        let session = try await game.session(wait: .seconds(30))
        #expect(session.sessionId == AgentFixture.sessionId, "\(agent.log)")
        _ = try await game.heartbeat(HeartbeatRequest(players: [Player(playerId: "p1"), Player(playerId: "p2")]))
        try await gsms.waitFor("a heartbeat carrying the game's players") {
            $0.heartbeat?.players == [Player(playerId: "p1"), Player(playerId: "p2")]
                && $0.heartbeat?.sessionId == AgentFixture.sessionId
        }

        let stream = game.events()
        gsms.assign(nil)
        let dropped = try await Deadline.within(.seconds(30), "the event of the shutdown") {
            for try await event in stream where event.state == .terminating { break }
            return try await game.session()
        }
        #expect(dropped.state == .terminating)
        #expect(dropped.sessionId == nil)
        #expect(agent.log.contains("shut down by the allocation service"), "\(agent.log)")
        try await agent.stop()
        await gsms.stop()
    }

    @Test("the shutdown event's reason names the allocation service")
    func shutdownReason() async throws {
        let gsms = try await FakeGSMS()
        gsms.assign(AgentFixture.sessionId)
        let agent = try await Self.agent(gsms)
        let game = AgentClient(socketPath: agent.socketPath)
        #expect(try await game.session(wait: .seconds(30)).sessionId == AgentFixture.sessionId)
        let stream = game.events()
        gsms.assign(nil)
        let event = try await Deadline.within(.seconds(30), "the Terminating event") { () -> HostEvent? in
            for try await event in stream where event.state == .terminating { return event }
            return nil
        }
        #expect(
            event?.reason
                == "the session was shut down by the allocation service (gsmsd no longer assigns it to this host)")
        try await agent.stop()
        await gsms.stop()
    }

    @Test(
        "a drain in gsmsd's answer: the game sees it, the slot stays StandingBy, heartbeats carry it and then drained: true"
    )
    func drainFromGSMS() async throws {
        let gsms = try await FakeGSMS()
        let agent = try await Self.agent(gsms)
        let game = AgentClient(socketPath: agent.socketPath)
        _ = try await game.ready()
        let stream = game.events()
        let notice = DrainNotice(
            deadline: DrainNotice.timestamp(Date().addingTimeInterval(3600)), source: .operator, reason: "scale-in")
        // The drain goes out only once the stream's first event (the current state) has arrived:
        // a stream that connects later starts at the drained event and never sees the drain's own.
        let event = try await Deadline.within(.seconds(30), "the drain's event") { () -> HostEvent? in
            var subscribed = false
            for try await event in stream {
                if !subscribed {
                    subscribed = true
                    gsms.drain(notice)
                } else if event.drain != nil {
                    return event
                }
            }
            return nil
        }
        #expect(event?.drain == notice)
        #expect(event?.reason?.hasPrefix("drain requested by the operator") == true, "\(String(describing: event))")
        let host = try await game.host()
        #expect(host.drain == notice)
        #expect(host.state == .standingBy)
        try await gsms.waitFor("a heartbeat with drained: true") {
            $0.heartbeat?.drain == notice && $0.heartbeat?.drained == true && $0.heartbeat?.state == .standingBy
        }
        try await agent.waitForStatus(containing: "Drained: the slot is idle")

        // Kept across a restart: the registration carries it.
        try await agent.stop(signal: SIGKILL)
        let registrations = gsms.recorded.filter { $0.registration != nil }.count
        try await agent.restart()
        try await gsms.waitFor("a registration carrying the drain") { $0.registration?.drain == notice }
        #expect(gsms.recorded.filter { $0.registration != nil }.count > registrations)
        try await agent.stop()
        await gsms.stop()
    }
}
