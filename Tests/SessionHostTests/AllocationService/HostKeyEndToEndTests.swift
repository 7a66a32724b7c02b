import Foundation
import SessionHostSDK
import Testing

/// Real agents against the real gsmsd: a host id belongs to the agent that registered it.
@Suite("host keys end to end", .serialized)
struct HostKeyEndToEndTests {
    @Test(
        "an agent started with another machine's host id is refused and changes nothing; the owner keeps its host across a restart"
    )
    func impostorIsRefused() async throws {
        let gsms = try await GSMSProcess()
        let owner = try await EndToEndHandoffTests.agent(gsms, hostId: "vm-1")
        let ownerGame = AgentClient(socketPath: owner.socketPath)
        _ = try await ownerGame.ready()
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy")

        // The owner made its key on first start: 43 base64url characters, readable by the agent only.
        let keyPath = owner.stateDirectory + "/host-key"
        let key = try String(contentsOfFile: keyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.count == 43)
        let permissions = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int
        #expect(permissions == 0o600)

        // Another agent, with the fleet secret and its own state directory, says it is vm-1.
        let secretFile = gsms.directory.file("impostor.token")
        try Data((GSMSProcess.fleetSecret + "\n").utf8).write(to: URL(fileURLWithPath: secretFile))
        let impostor = try await AgentProcess.started(arguments: [
            "--control-plane", "http://127.0.0.1:\(gsms.client.port)", "--agent-token-file", secretFile,
            "--title-id", "1234", "--host-id", "vm-1", "--region", "WestUS", "--hostname", "impostor.example.net",
            "--port", "game:udp:7777:31000", "--health-timeout", "0",
        ])
        let impostorGame = AgentClient(socketPath: impostor.socketPath)
        _ = try await impostorGame.ready()
        try await Deadline.waitUntil("the impostor to be refused", timeout: .seconds(30)) {
            impostor.log.contains("HostKeyMismatch")
        }
        #expect(impostor.log.contains("bound to another agent's host key"))

        // The host still describes the owner: the allocation reaches the owner's game.
        let waiting = Task { try await ownerGame.session(wait: .seconds(60)) }
        let answer = try await gsms.allocate([
            "sessionId": EndToEndHandoffTests.sessionId, "sessionCookie": "map=dust2",
        ])
        #expect(answer.status == 200, "\(answer)")
        #expect(answer.json["hostName"] as? String == "vm-1.example.net")
        #expect(try await waiting.value.sessionId == EndToEndHandoffTests.sessionId)
        let impostorView = try await impostorGame.session()
        #expect(impostorView.sessionId == nil)

        // The owner restarts with the same state directory, hence the same key, and keeps its session.
        try await impostor.stop()
        _ = try await owner.stop(signal: SIGKILL)
        try await owner.restart()
        try await Deadline.waitUntil("the restarted owner to be heard again", timeout: .seconds(30)) {
            owner.log.components(separatedBy: "registered with gsmsd").count > 2
        }
        let status = try await gsms.hostStatus("vm-1")
        #expect(status.json["sessionId"] as? String == EndToEndHandoffTests.sessionId)
        #expect(!owner.log.contains("HostKeyMismatch"))
        try await owner.stop()
        try await gsms.stop()
    }
}
