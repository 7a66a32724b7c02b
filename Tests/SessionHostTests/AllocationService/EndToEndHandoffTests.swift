import Foundation
import SessionHostModel
import SessionHostSDK
import Testing

/// The real agents and the real gsmsd together: registration, hand-offs to waiting game
/// servers, session ends, deregistration, health, and restarts.
@Suite("end-to-end hand-off", .serialized)
struct EndToEndHandoffTests {
    static let sessionId = "3536d3e6-e85d-4f47-b898-9617d19dabcd"

    /// Starts a real agent joined to `gsms` as `hostId`.
    /// `stateDirectory` replaces the agent's own (in its temporary directory).
    static func agent(
        _ gsms: GSMSProcess, hostId: String, region: String = "WestUS", stateDirectory: String? = nil,
        extra: [String] = []
    ) async throws -> AgentProcess {
        let secretFile = gsms.directory.file("fleet-\(hostId).token")
        try Data((GSMSProcess.fleetSecret + "\n").utf8).write(to: URL(fileURLWithPath: secretFile))
        let agent = try await AgentProcess.started(
            arguments: [
                "--control-plane", "http://127.0.0.1:\(gsms.client.port)", "--agent-token-file", secretFile,
                "--title-id", "1234", "--host-id", hostId, "--region", region, "--hostname", "\(hostId).example.net",
                "--port", "game:udp:7777:30000", "--health-timeout", "0",
            ] + (stateDirectory.map { ["--state-dir", $0] } ?? []) + extra)
        try gsms.useHostKey(in: stateDirectory ?? agent.stateDirectory, hostId: hostId)
        return agent
    }

    /// Waits until gsmsd sees the host in `state`.
    static func waitForHost(_ gsms: GSMSProcess, _ hostId: String, state: String, timeout: Duration = .seconds(20))
        async throws
    {
        try await Deadline.waitUntilAsync("\(hostId) to be \(state) in gsmsd", timeout: timeout) {
            try await gsms.hostStatus(hostId).json["state"] as? String == state
        }
    }

    @Test(
        "the game calls ready, a title allocates, the game's waiting request gets the session and cookie; the end releases the host"
    )
    func fullHandoff() async throws {
        let gsms = try await GSMSProcess()
        let agent = try await Self.agent(gsms, hostId: "vm-1")
        let game = AgentClient(socketPath: agent.socketPath)
        try await Self.waitForHost(gsms, "vm-1", state: "Initializing")
        _ = try await game.ready()
        try await Self.waitForHost(gsms, "vm-1", state: "StandingBy")

        let waiting = Task { try await game.session(wait: .seconds(60)) }
        let answer = try await gsms.allocate([
            "sessionId": Self.sessionId, "sessionCookie": "map=dust2", "locations": ["West US"],
        ])
        #expect(answer.status == 200, "\(answer)\n\(agent.log)")
        #expect(answer.json["hostName"] as? String == "vm-1.example.net")
        let session = try await waiting.value
        #expect(session.sessionId == Self.sessionId)
        #expect(session.sessionCookie == "map=dust2")
        #expect(session.state == .active)
        #expect(try await gsms.hostStatus("vm-1").json["state"] as? String == "Active")

        _ = try await game.endSession()
        try await Self.waitForHost(gsms, "vm-1", state: "Terminating")
        let lookUp = try await gsms.client.send(
            .GET, "/titles/1234/sessionhosts/\(Self.sessionId)",
            headers: [try await GSMSProcess.authorization(["1234"])])
        #expect(lookUp.status == 404)
        _ = try await game.ready()
        try await Self.waitForHost(gsms, "vm-1", state: "StandingBy")

        // SIGTERM while StandingBy deregisters the host.
        try await agent.stop()
        #expect(try await gsms.hostStatus("vm-1").status == 404)
        try await gsms.stop()
    }

    @Test("an agent killed while holding an Active session keeps it after restart, and the host is not allocated again")
    func agentSIGKILLKeepsSession() async throws {
        let gsms = try await GSMSProcess()
        let agent = try await Self.agent(gsms, hostId: "vm-1")
        let game = AgentClient(socketPath: agent.socketPath)
        _ = try await game.ready()
        try await Self.waitForHost(gsms, "vm-1", state: "StandingBy")
        #expect(try await gsms.allocate(["sessionId": Self.sessionId, "sessionCookie": "c"]).status == 200)
        _ = try await agent.stop(signal: SIGKILL)
        try await agent.restart()
        let session = try await game.session(wait: .seconds(20)) // from the state file, or from gsmsd's first answer
        #expect(session.sessionId == Self.sessionId)
        #expect(session.sessionCookie == "c")
        // The agent heartbeats again; the host stays Active with that session.
        try await Deadline.waitUntilAsync("a heartbeat after the restart", timeout: .seconds(20)) {
            try await gsms.hostStatus("vm-1").json["sessionId"] as? String == Self.sessionId
        }
        #expect(try await gsms.allocate(["sessionId": "4536d3e6-e85d-4f47-b898-9617d19dabcd"]).status == 503)
        try await agent.stop()
        try await gsms.stop()
    }

    @Test("an agent whose game stopped heartbeating leaves the pool")
    func silentGameLeavesPool() async throws {
        let gsms = try await GSMSProcess()
        let agent = try await Self.agent(gsms, hostId: "vm-1", extra: ["--health-timeout", "1"])
        let game = AgentClient(socketPath: agent.socketPath)
        _ = try await game.ready()
        try await Self.waitForHost(gsms, "vm-1", state: "Unhealthy")
        #expect(try await gsms.allocate(["sessionId": Self.sessionId]).status == 503)
        // The game comes back and keeps heartbeating, so the host is StandingBy again.
        let heartbeats = Task {
            while !Task.isCancelled {
                _ = try await game.heartbeat(HeartbeatRequest(health: .healthy))
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        defer { heartbeats.cancel() }
        try await Self.waitForHost(gsms, "vm-1", state: "StandingBy")
        try await agent.stop()
        try await gsms.stop()
    }

    @Test(
        "a queued cluster request is fulfilled when an agent's game becomes ready; the game receives the session path")
    func clusterFulfilledByReadyAgent() async throws {
        let gsms = try await GSMSProcess()
        let agent = try await Self.agent(gsms, hostId: "vm-1")
        let game = AgentClient(socketPath: agent.socketPath)
        let path = "/serviceconfigs/00000000-0000-0000-0000-000000000000/sessiontemplates/quick/session/e2e"
        #expect(try await gsms.cluster(["sessionId": path]).json["fulfillmentState"] as? String == "Queued")
        _ = try await game.ready()
        let session = try await game.session(wait: .seconds(30))
        #expect(session.sessionId == path)
        try await Deadline.waitUntilAsync("the cluster to be Fulfilled", timeout: .seconds(20)) {
            try await gsms.cluster(["sessionId": path]).json["fulfillmentState"] as? String == "Fulfilled"
        }
        try await agent.stop()
        try await gsms.stop()
    }

    @Test("the agent serves its game while gsmsd is away, and registers once gsmsd is back")
    func gsmsdAway() async throws {
        let gsms = try await GSMSProcess()
        _ = try await gsms.daemon.stop()
        // gsmsd is down: the agent still starts, answers its game, and keeps retrying.
        let secretFile = gsms.directory.file("fleet.token")
        try Data(GSMSProcess.fleetSecret.utf8).write(to: URL(fileURLWithPath: secretFile))
        let port = gsms.client.port
        let agent = try await AgentProcess.started(arguments: [
            "--control-plane", "http://127.0.0.1:\(port)", "--agent-token-file", secretFile, "--title-id", "1234",
            "--host-id", "vm-1", "--health-timeout", "0",
        ])
        try gsms.useHostKey(in: agent.stateDirectory, hostId: "vm-1")
        let game = AgentClient(socketPath: agent.socketPath)
        #expect(try await game.ready().state == .standingBy)
        try await gsms.restart(onPort: port)
        try await Self.waitForHost(gsms, "vm-1", state: "StandingBy", timeout: .seconds(30))
        try await agent.stop()
        try await gsms.stop()
    }

    @Test(
        "locations are honoured in order across real agents; a repeated POST is idempotent; an exhausted pool answers 503"
    )
    func locationsAcrossAgents() async throws {
        let gsms = try await GSMSProcess()
        var agents: [AgentProcess] = []
        for (host, region) in [("vm-1", "WestUS"), ("vm-2", "EastUS"), ("vm-3", "WestEurope")] {
            let agent = try await Self.agent(gsms, hostId: host, region: region)
            _ = try await AgentClient(socketPath: agent.socketPath).ready()
            agents.append(agent)
        }
        for host in ["vm-1", "vm-2", "vm-3"] { try await Self.waitForHost(gsms, host, state: "StandingBy") }
        let first = try await gsms.allocate(["sessionId": Self.sessionId, "locations": ["West Europe", "East US"]])
        #expect(first.json["sessionHostId"] as? String == "vm-3", "\(first)")
        let again = try await gsms.allocate(["sessionId": Self.sessionId, "locations": ["West Europe", "East US"]])
        #expect(again.status == 200)
        #expect(again.text == first.text)
        let second = try await gsms.allocate([
            "sessionId": "4536d3e6-e85d-4f47-b898-9617d19dabcd", "locations": ["West Europe", "East US"],
        ])
        #expect(second.json["sessionHostId"] as? String == "vm-2", "\(second)")
        let none = try await gsms.allocate([
            "sessionId": "5536d3e6-e85d-4f47-b898-9617d19dabcd", "locations": ["westeurope", "EASTUS"],
        ])
        #expect(none.status == 503)
        #expect(
            try await AgentClient(socketPath: agents[2].socketPath).session(wait: .seconds(10)).sessionId
                == Self.sessionId)
        for agent in agents { try await agent.stop() }
        try await gsms.stop()
    }

    @Test("SIGKILL of gsmsd during allocations: every 200 is still true after the restart and agents agree with gsmsd")
    func gsmsdSIGKILLDuringAllocations() async throws {
        let gsms = try await GSMSProcess()
        var agents: [String: AgentProcess] = [:]
        for index in 1...4 {
            let host = "vm-\(index)"
            let agent = try await Self.agent(gsms, hostId: host)
            _ = try await AgentClient(socketPath: agent.socketPath).ready()
            agents[host] = agent
        }
        for host in agents.keys { try await Self.waitForHost(gsms, host, state: "StandingBy") }
        let ids = (1...6).map { String(format: "00000000-0000-4000-8000-%012d", $0) }
        let load = Task {
            await withTaskGroup(of: (String, HTTPTestClient.Answer?).self) { group in
                for id in ids { group.addTask { (id, try? await gsms.allocate(["sessionId": id])) } }
                return await group.reduce(into: [(String, HTTPTestClient.Answer?)]()) { $0.append($1) }
            }
        }
        try await gsms.killAndRestart(keepPort: true)
        var given: [String: String] = [:]
        for (id, answer) in await load.value where answer?.status == 200 {
            given[id] = answer?.json["sessionHostId"] as? String
        }
        let auth = try await GSMSProcess.authorization(["1234"])
        for (id, host) in given {
            let lookUp = try await gsms.client.send(.GET, "/titles/1234/sessionhosts/\(id)", headers: [auth])
            #expect(lookUp.status == 200, "\(id): \(lookUp)")
            #expect(lookUp.json["sessionHostId"] as? String == host)
        }
        #expect(Set(given.values).count == given.count, "a host was given two sessions: \(given)")
        // The agents converge to gsmsd: each holds exactly the session gsmsd assigns it.
        for (host, agent) in agents {
            try await Deadline.waitUntilAsync("\(host) to agree with gsmsd", timeout: .seconds(30)) {
                let assigned = try await gsms.hostStatus(host).json["sessionId"] as? String
                let held = try await AgentClient(socketPath: agent.socketPath).session().sessionId
                return assigned == held
            }
        }
        for agent in agents.values { try await agent.stop() }
        try await gsms.stop()
    }
}
