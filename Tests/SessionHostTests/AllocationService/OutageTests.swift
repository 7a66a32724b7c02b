import Foundation
import SessionHostSDK
import Testing

/// Long faults: gsmsd away for minutes, an agent frozen with SIGSTOP. Invariants are checked
/// from outside, as in `FaultInjectionTests`.
@Suite("outages", .serialized)
struct OutageTests {
    static let otherSessionId = "4536d3e6-e85d-4f47-b898-9617d19dabcd"

    @Test(
        "an agent frozen by SIGSTOP: its hand-off moves to the next host, and once thawed gsmsd refuses its stale acknowledgement and it rejoins the pool"
    )
    func frozenAgent() async throws {
        // Hosts stay live for a minute without heartbeats, so gsmsd still offers the frozen one.
        let gsms = try await GSMSProcess(arguments: ["--handoff-timeout", "1", "--host-timeout", "60"])
        let frozen = try await EndToEndHandoffTests.agent(gsms, hostId: "vm-1")
        let frozenGame = AgentClient(socketPath: frozen.socketPath)
        _ = try await frozenGame.ready()
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy")
        let other = try await EndToEndHandoffTests.agent(gsms, hostId: "vm-2")
        let otherGame = AgentClient(socketPath: other.socketPath)
        _ = try await otherGame.ready()
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-2", state: "StandingBy")
        // vm-1 has been StandingBy longest, so it is offered first; its agent holds a hand-off poll.
        try await Deadline.waitUntil("vm-1's agent to hold a hand-off poll", timeout: .seconds(30)) {
            frozen.log.contains("registered with gsmsd")
        }

        kill(frozen.pid, SIGSTOP)
        let waiting = Task { try await otherGame.session(wait: .seconds(60)) }
        let answer = try await gsms.allocate([
            "sessionId": EndToEndHandoffTests.sessionId, "sessionCookie": "map=dust2",
        ])
        #expect(answer.status == 200, "\(answer)")
        #expect(answer.json["hostName"] as? String == "vm-2.example.net")
        #expect(try await waiting.value.sessionId == EndToEndHandoffTests.sessionId)

        // Thawed well after the deadline: the hand-off waiting in its socket is stale.
        try await Task.sleep(for: .seconds(3)) // the fault itself: how long the agent stays frozen
        kill(frozen.pid, SIGCONT)
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy", timeout: .seconds(30))
        #expect(try await frozenGame.session().sessionId == nil, "the frozen host's game never sees the session")
        #expect(
            frozen.log.contains("gsmsd refused the acknowledgement; the game never saw the session"), "\(frozen.log)")
        #expect(try await gsms.hostStatus("vm-2").json["sessionId"] as? String == EndToEndHandoffTests.sessionId)

        // And vm-1 is in the pool again.
        let next = try await gsms.allocate(["sessionId": Self.otherSessionId])
        #expect(next.status == 200, "\(next)")
        #expect(next.json["hostName"] as? String == "vm-1.example.net")
        try await frozen.stop()
        try await other.stop()
        try await gsms.stop()
    }

    @Test(
        "gsmsd away for minutes: games are served throughout, a session ended meanwhile is reported, and both hosts rejoin when it returns"
    )
    func controlPlaneAwayForMinutes() async throws {
        let away = Duration.seconds(ProcessInfo.processInfo.environment["OUTAGE_SECONDS"].flatMap(Int.init) ?? 120)
        let gsms = try await GSMSProcess()
        let idle = try await EndToEndHandoffTests.agent(gsms, hostId: "vm-1")
        let busy = try await EndToEndHandoffTests.agent(gsms, hostId: "vm-2")
        let idleGame = AgentClient(socketPath: idle.socketPath)
        let busyGame = AgentClient(socketPath: busy.socketPath)
        _ = try await busyGame.ready()
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-2", state: "StandingBy")
        #expect(try await gsms.allocate(["sessionId": EndToEndHandoffTests.sessionId]).status == 200)
        _ = try await idleGame.ready()
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy")

        let port = gsms.client.port
        _ = try await gsms.daemon.stop(signal: SIGKILL)
        let outageEnds = ContinuousClock.now + away
        var served = 0
        var ended = false
        while ContinuousClock.now < outageEnds {
            // The games heartbeat as usual; every call is answered by the agents.
            #expect(try await idleGame.heartbeat(HeartbeatRequest(health: .healthy)).state == .standingBy)
            let busyState = try await busyGame.heartbeat(HeartbeatRequest(health: .healthy))
            served += 2
            if !ended && ContinuousClock.now > outageEnds - away / 2 {
                // Half-way through, the match ends and the game is ready for the next one.
                #expect(busyState.sessionId == EndToEndHandoffTests.sessionId)
                _ = try await busyGame.endSession()
                _ = try await busyGame.ready()
                ended = true
            }
            try await Task.sleep(for: .seconds(2)) // the games' heartbeat interval
        }
        #expect(ended)
        #expect(served > 20)

        try await gsms.restart(onPort: port)
        // Agents back off up to 10 s between attempts: both are heard again well within 30 s.
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy", timeout: .seconds(30))
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-2", state: "StandingBy", timeout: .seconds(30))
        // The session ended during the outage is gone from gsmsd, and both hosts take new ones.
        let lookUp = try await gsms.client.send(
            .GET, "/titles/1234/sessionhosts/\(EndToEndHandoffTests.sessionId)",
            headers: [try await GSMSProcess.authorization(["1234"])])
        #expect(lookUp.status == 404)
        #expect(try await gsms.allocate(["sessionId": Self.otherSessionId]).status == 200)
        #expect(try await gsms.allocate(["sessionId": "5536d3e6-e85d-4f47-b898-9617d19dabcd"]).status == 200)
        // The failure was logged once per kind, not once per attempt, and the return once.
        for agent in [idle, busy] {
            let warnings = agent.log.components(separatedBy: "not in gsmsd's pool").count - 1
            #expect(warnings >= 1 && warnings <= 3, "\(warnings) retry warnings")
            #expect(agent.log.contains("back in the pool") || agent.log.contains("in the pool again"))
        }
        try await idle.stop()
        try await busy.stop()
        try await gsms.stop()
    }
}
