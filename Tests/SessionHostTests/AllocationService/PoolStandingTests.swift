import Foundation
import SessionHostModel
import SessionHostSDK
import Testing

/// An agent that cannot join gsmsd's pool says so where an operator looks: `STATUS=`,
/// `GET /v1/host` (`controlPlane`), `sessionhostctl host` and one log line per kind of failure;
/// gsmsd logs the refused agent and counts it.
@Suite("standing with gsmsd: refused and unreachable agents say so", .serialized)
struct PoolStandingTests {
    static func agent(
        controlPlane: String, secret: String = GSMSProcess.fleetSecret, titleId: String = "1234", hostId: String
    ) async throws -> AgentProcess {
        let directory = try TemporaryDirectory()
        let secretFile = directory.file("fleet.token")
        try Data((secret + "\n").utf8).write(to: URL(fileURLWithPath: secretFile))
        return try await AgentProcess.started(arguments: [
            "--control-plane", controlPlane, "--agent-token-file", secretFile, "--title-id", titleId,
            "--host-id", hostId, "--region", "WestUS", "--port", "game:udp:7777:30000",
        ])
    }

    /// `gsms_agent_refusals_total{code="…"}` as gsmsd counts it now.
    static func refusals(_ gsms: GSMSProcess, code: String) async throws -> Int {
        let text = try await gsms.client.send(.GET, "/metrics").text
        let prefix = "gsms_agent_refusals_total{code=\"\(code)\"} "
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return 0 }
        return Int(Double(line.dropFirst(prefix.count)) ?? 0)
    }

    static func hostCommand(_ agent: AgentProcess) async throws -> String {
        let result = try await ProcessRun.run(
            Binaries.sessionhostctl, ["host", "--socket", agent.socketPath], in: agent.directory)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    @Test("a wrong fleet secret: Refused with the code and the fix everywhere, logged once however often it is retried")
    func wrongFleetSecret() async throws {
        let gsms = try await GSMSProcess()
        let agent = try await Self.agent(
            controlPlane: "http://127.0.0.1:\(gsms.client.port)", secret: "not-the-fleet-secret-0123456789abcdefghij",
            hostId: "vm-wrong")
        let client = AgentClient(socketPath: agent.socketPath)
        try await client.ready()
        _ = try await agent.waitForStatus(containing: "not in gsmsd's pool: refused (InvalidAgentToken)")
        let standing = try #require(try await client.host().controlPlane)
        #expect(standing.status == .refused)
        #expect(standing.code == "InvalidAgentToken")
        #expect(standing.message?.contains("--agent-token-file") == true, "says what to do: \(standing.message ?? "")")
        #expect(standing.since != nil)
        #expect(try await Self.hostCommand(agent).contains("NOT IN THE POOL: refused (InvalidAgentToken)"))
        // The agent keeps retrying; the refusal is logged once on each side.
        try await Deadline.waitUntilAsync("three refusals at gsmsd") {
            try await Self.refusals(gsms, code: "InvalidAgentToken") >= 3
        }
        let agentLines = agent.log.split(separator: "\n").filter { $0.contains("gsmsd refused this host") }
        #expect(agentLines.count == 1, "\(agentLines)")
        let gsmsLines = gsms.log.split(separator: "\n").filter {
            $0.contains("agent refused") && $0.contains("InvalidAgentToken")
        }
        #expect(gsmsLines.count == 1, "\(gsmsLines)")
        try await agent.stop()
        try await gsms.stop()
    }

    @Test("an unsubscribed title is Refused with TitleNotSubscribed; a good agent is Registered")
    func unsubscribedTitle() async throws {
        let gsms = try await GSMSProcess()
        let url = "http://127.0.0.1:\(gsms.client.port)"
        let stranger = try await Self.agent(controlPlane: url, titleId: "9999", hostId: "vm-stranger")
        let good = try await Self.agent(controlPlane: url, hostId: "vm-good")
        _ = try await stranger.waitForStatus(containing: "refused (TitleNotSubscribed)")
        let standing = try #require(try await AgentClient(socketPath: stranger.socketPath).host().controlPlane)
        #expect(standing.status == .refused)
        #expect(standing.message?.contains("--title") == true, "\(standing.message ?? "")")
        try await Deadline.waitUntilAsync("the good agent registered") {
            try await AgentClient(socketPath: good.socketPath).host().controlPlane?.status == .registered
        }
        #expect(try await Self.hostCommand(good).contains("registered: in the pool"))
        try await stranger.stop()
        try await good.stop()
        try await gsms.stop()
    }

    @Test("gsmsd unreachable: Unreachable with the address; local mode says Local")
    func unreachable() async throws {
        // A port nobody listens on: bound, then closed.
        let (descriptor, port) = try LoopbackTCP.occupyPort()
        close(descriptor)
        let agent = try await Self.agent(controlPlane: "http://127.0.0.1:\(port)", hostId: "vm-alone")
        _ = try await agent.waitForStatus(containing: "not in gsmsd's pool: cannot reach gsmsd at")
        let standing = try #require(try await AgentClient(socketPath: agent.socketPath).host().controlPlane)
        #expect(standing.status == .unreachable)
        #expect(try await Self.hostCommand(agent).contains("NOT IN THE POOL: cannot reach gsmsd"))
        try await agent.stop()

        let local = try await AgentProcess.started()
        #expect(try await AgentClient(socketPath: local.socketPath).host().controlPlane?.status == .local)
        try await local.stop()
    }
}
