import Foundation
import SessionHostSDK
import Testing

/// An agent that cannot save its state never acknowledges what it could not save: the hand-off
/// moves to another host, nothing is lost, and the agent serves again once its state can be saved.
@Suite("agent state that cannot be saved", .serialized)
struct StateWriteFailureTests {
    @Test(
        "a hand-off the agent cannot save is not acknowledged, goes to the next host, and the agent recovers when fixed"
    )
    func unsavableHandoff() async throws {
        let gsms = try await GSMSProcess(arguments: ["--handoff-timeout", "1"])
        let first = try await EndToEndHandoffTests.agent(gsms, hostId: "vm-1")
        let firstGame = AgentClient(socketPath: first.socketPath)
        _ = try await firstGame.ready()
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy")
        let second = try await EndToEndHandoffTests.agent(gsms, hostId: "vm-2")
        _ = try await AgentClient(socketPath: second.socketPath).ready()
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-2", state: "StandingBy")

        // A directory where vm-1 writes its next state file: every save fails (EISDIR).
        let blocker = first.stateDirectory + "/state.json.tmp"
        try FileManager.default.createDirectory(atPath: blocker, withIntermediateDirectories: false)
        let answer = try await gsms.allocate(["sessionId": EndToEndHandoffTests.sessionId, "sessionCookie": "kept"])
        #expect(answer.status == 200, "\(answer)")
        #expect(
            answer.json["sessionHostId"] as? String == "vm-2",
            "the longest StandingBy host could not save; the next one serves")
        #expect(try await firstGame.session().sessionId == nil, "vm-1's game must not see a session vm-1 did not save")
        #expect(first.log.contains("cannot take the hand-off"), "\(first.log)")
        #expect(try await AgentClient(socketPath: second.socketPath).session().sessionCookie == "kept")

        // Fixed: vm-1 is StandingBy again in gsmsd and takes the next session.
        try FileManager.default.removeItem(atPath: blocker)
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy", timeout: .seconds(30))
        let next = "4536d3e6-e85d-4f47-b898-9617d19dabcd"
        let again = try await gsms.allocate(["sessionId": next])
        #expect(again.json["sessionHostId"] as? String == "vm-1", "\(again)")
        #expect(try await firstGame.session(wait: .seconds(10)).sessionId == next)
        try await first.stop()
        try await second.stop()
        try await gsms.stop()
    }
}
