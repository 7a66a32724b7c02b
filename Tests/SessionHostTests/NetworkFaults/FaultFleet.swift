import Foundation
import SessionHostSDK

/// gsmsd in the root namespace on the control-plane address of a `FaultNetwork`, and one real
/// agent per namespace (host `nf-i` in region `NFi`, so that a title can aim at one host with
/// `locations`), each served by a `SimulatedGame` through its Unix socket.
final class FaultFleet: @unchecked Sendable {
    /// One session host: its agent and its game.
    struct Host: Sendable {
        var index: Int
        var hostId: String
        var region: String
        var agent: AgentProcess
        var game: SimulatedGame
    }

    static let title = "1234"
    /// Short timings, so that missed hand-offs and silent hosts are decided within a scenario.
    static let handoffTimeoutSeconds = 2
    static let hostTimeoutSeconds = 6

    let network: FaultNetwork
    let gsms: GSMSProcess
    let hosts: [Host]

    private init(network: FaultNetwork, gsms: GSMSProcess, hosts: [Host]) {
        self.network = network
        self.gsms = gsms
        self.hosts = hosts
    }

    /// Builds the network, starts gsmsd and the agents, starts the games, and waits until every
    /// host is StandingBy in gsmsd.
    static func start(agentCount: Int, seed: UInt64) async throws -> FaultFleet {
        let network = try await FaultNetwork.create(agentCount: agentCount, seed: seed)
        let controlPlane = network.controlPlaneAddress
        let gsms = try await GSMSProcess(
            titles: [title],
            arguments: [
                "--listen", "\(controlPlane):0",
                "--handoff-timeout", String(handoffTimeoutSeconds), "--host-timeout", String(hostTimeoutSeconds),
            ])
        gsms.client = HTTPTestClient(host: "\(controlPlane)", port: gsms.client.port)
        let hosts = try await withThrowingTaskGroup(of: Host.self) { group in
            for link in network.agents {
                group.addTask { try await startHost(link, gsms: gsms, seed: seed &+ UInt64(link.index)) }
            }
            return try await group.reduce(into: [Host]()) { $0.append($1) }.sorted { $0.index < $1.index }
        }
        let fleet = FaultFleet(network: network, gsms: gsms, hosts: hosts)
        for host in hosts { host.game.start() }
        do {
            for host in hosts {
                try await fleet.waitForHost(host.hostId, state: "StandingBy", timeout: .seconds(30))
            }
        } catch {
            try? await fleet.stop()
            throw error
        }
        return fleet
    }

    private static func startHost(_ link: FaultNetwork.AgentLink, gsms: GSMSProcess, seed: UInt64) async throws -> Host
    {
        let hostId = "nf-\(link.index)"
        let region = "NF\(link.index)"
        let directory = try TemporaryDirectory()
        let secretFile = directory.file("agent.token")
        try Data((GSMSProcess.fleetSecret + "\n").utf8).write(to: URL(fileURLWithPath: secretFile))
        // `ip netns exec` switches namespace and then execs the agent: the process id is the agent's.
        let agent = try AgentProcess(
            wrapping: IPCommand.path,
            arguments: [
                "netns", "exec", link.namespace, Binaries.sessionhostd,
                "--socket", directory.file("agent.sock"), "--state-dir", directory.file("state"),
                "--control-plane", "http://\(gsms.client.host):\(gsms.client.port)", "--agent-token-file", secretFile,
                "--title-id", title, "--host-id", hostId, "--region", region, "--hostname", "\(hostId).example.net",
                "--port", "game:udp:7777:30000", "--health-timeout", "0",
            ],
            directory: directory)
        try await agent.waitForReady()
        try gsms.useHostKey(in: agent.stateDirectory, hostId: hostId)
        let game = SimulatedGame(hostId: hostId, socketPath: agent.socketPath, seed: seed)
        return Host(index: link.index, hostId: hostId, region: region, agent: agent, game: game)
    }

    func host(_ hostId: String) -> Host? { hosts.first { $0.hostId == hostId } }

    func host(index: Int) -> Host { hosts[index - 1] }

    var forwarder: PacketForwarder { network.forwarder }

    /// gsmsd's view of a host (`HostStatus`), through the agent-facing API.
    func hostStatus(_ hostId: String) async throws -> [String: Any] {
        let gsms = self.gsms
        let answer = try await Deadline.within(TitleDriver.callTimeout, "GET /agent/v1/hosts/\(hostId)") {
            try await gsms.hostStatus(hostId)
        }
        guard answer.status == 200 else { throw TestFailure("GET /agent/v1/hosts/\(hostId): \(answer)") }
        return answer.json
    }

    func waitForHost(_ hostId: String, state: String, timeout: Duration) async throws {
        try await Deadline.waitUntilAsync("\(hostId) to be \(state) in gsmsd", timeout: timeout) {
            // Not registered yet (404) is not yet.
            (try? await self.hostStatus(hostId))?["state"] as? String == state
        }
    }

    /// Waits until every game is idle in its own view (no session, StandingBy).
    func waitForIdleGames(timeout: Duration) async throws {
        do {
            try await Deadline.waitUntil("every game to be idle", timeout: timeout) {
                self.hosts.allSatisfy { $0.game.observer.isIdle }
            }
        } catch {
            let views = hosts.map { "\($0.hostId): \($0.game.observer.summary)" }.joined(separator: "; ")
            let logs = hosts.filter { !$0.game.observer.isIdle }.map { host in
                "\(host.hostId)'s log ends:\n"
                    + host.agent.log.split(separator: "\n").suffix(30).joined(separator: "\n")
            }
            throw TestFailure(
                "\(error); games: \(views); game errors: \(hosts.flatMap { $0.game.errors })\n\(logs.joined(separator: "\n"))"
            )
        }
    }

    /// Heals the network, stops the games, the agents and gsmsd, and removes the network.
    func stop() async throws {
        forwarder.clearRules()
        for host in hosts { await host.game.stop() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for host in hosts {
                group.addTask { _ = try await host.agent.stop() }
            }
            try await group.waitForAll()
        }
        try await gsms.stop()
        try await network.tearDown()
    }
}
