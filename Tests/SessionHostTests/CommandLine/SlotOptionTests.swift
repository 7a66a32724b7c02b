import Foundation
import SessionHostModel
import SessionHostSDK
import Testing

/// `sessionhostctl --slot K`: slot K's own socket, `agent-K.sock` beside the socket otherwise used.
@Suite("sessionhostctl --slot")
struct SlotOptionTests {
    @Test("--slot K talks to agent-K.sock beside --socket: each slot's host of a --slots 3 agent")
    func slotSockets() async throws {
        let agent = try await AgentProcess.started(arguments: [
            "--title-id", "1234ABCD", "--slots", "3", "--port", "game:udp:7777:30000",
        ])
        var ids: [String] = []
        for slot in 1...3 {
            let expected = try await AgentClient(
                socketPath: SlotSockets.path(of: slot, beside: agent.socketPath)
            ).host().sessionHostId
            let result = try await ProcessRun.run(
                Binaries.sessionhostctl,
                ["host", "--json", "--slot", "\(slot)", "--socket", agent.socketPath], in: agent.directory)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("\"\(expected)\""), "slot \(slot): \(result.stdout)")
            ids.append(expected)
        }
        #expect(Set(ids).count == 3)
        // Its four socket servers drain together: SIGTERM is a clean exit, not "a service has finished unexpectedly".
        let status = try await agent.stop()
        #expect(status == 0, "\(agent.log)")
    }

    @Test("--slot K beside $SESSIONHOST_SOCKET, and beside the default socket")
    func besideOtherSockets() async throws {
        let directory = try TemporaryDirectory()
        let fromEnvironment = try await ProcessRun.run(
            Binaries.sessionhostctl, ["host", "--slot", "2"], in: directory,
            environment: ["SESSIONHOST_SOCKET": directory.file("game.sock")])
        #expect(fromEnvironment.status == 3)
        #expect(
            fromEnvironment.stderr.contains("there is no agent socket at \(directory.file("game-2.sock"))"),
            "\(fromEnvironment.stderr)")
        #expect(SlotSockets.path(of: 7, beside: "/run/sessionhost/agent.sock") == "/run/sessionhost/agent-7.sock")
        #expect(SlotSockets.path(of: 2, beside: "/srv/game") == "/srv/game-2.sock")
    }

    @Test("--slot outside 1…64 is refused in words", arguments: ["0", "65", "-1"])
    func outOfRange(slot: String) async throws {
        let directory = try TemporaryDirectory()
        let result = try await ProcessRun.run(
            Binaries.sessionhostctl, ["host", "--socket", directory.file("agent.sock"), "--slot=\(slot)"],
            in: directory)
        #expect(result.status == 64)
        #expect(result.stderr.contains("--slot must be 1 to 64"), "\(result.stderr)")
    }
}
