import Foundation
import SessionHostSDK
import Testing

/// The example game server (built on SessionHostSDK) against the real agent in local mode.
@Suite("example game server", .serialized)
struct ExampleGameServerTests {
    static func freeUDPPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw TestFailure("no free UDP port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Sends one datagram to the game server and returns its reply (python3, a client nobody here wrote).
    static func say(_ text: String, port: Int, in directory: TemporaryDirectory) async throws -> String {
        let script = """
            import socket, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
            s.sendto(sys.argv[1].encode(), ("127.0.0.1", int(sys.argv[2])))
            print(s.recvfrom(4096)[0].decode().strip())
            """
        let result = try await ProcessRun.run(
            "/usr/bin/env", ["python3", "-c", script, text, String(port)], in: directory)
        guard result.status == 0 else { throw TestFailure("udp client: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(
        "waits for its session, prints the id and cookie, serves players and reports them in heartbeats, ends the session, and is ready again"
    )
    func matchLifecycle() async throws {
        let port = try Self.freeUDPPort()
        let agent = try await AgentProcess.started(arguments: [
            "--title-id", "1234", "--port", "game:udp:\(port):30000", "--health-timeout", "0",
        ])
        let game = try AgentProcess(
            wrapping: Binaries.directory + "/example-game-server",
            arguments: [
                "--socket", agent.socketPath, "--match-seconds", "60", "--heartbeat-seconds", "0.2", "--matches", "1",
            ],
            directory: agent.directory)
        let client = AgentClient(socketPath: agent.socketPath)
        try await Deadline.waitUntilAsync("the game server to call ready", timeout: .seconds(30)) {
            try await client.session().state == .standingBy
        }
        #expect(try await Self.say("hello", port: port, in: agent.directory).contains("waiting for its session"))

        let sessionId = "3536d3e6-e85d-4f47-b898-9617d19dabcd"
        _ = try await client.allocateLocally(sessionId: sessionId, sessionCookie: "map=dust2")
        try await Deadline.waitUntil("the game server to print its session", timeout: .seconds(30)) {
            game.log.contains("session started: sessionId=\(sessionId) sessionCookie=map=dust2")
        }
        #expect(
            try await Self.say("join alice", port: port, in: agent.directory) == "welcome alice to session \(sessionId)"
        )
        try await Deadline.waitUntilAsync("alice in the heartbeats", timeout: .seconds(30)) {
            try await client.session().players?.map(\.playerId) == ["alice"]
        }
        #expect(try await Self.say("end", port: port, in: agent.directory) == "ending session \(sessionId)")
        let status = try await game.waitForExit()
        #expect(status == 0, "\(game.log)")
        #expect(game.log.contains("session ended: sessionId=\(sessionId) players=[\"alice\"]"))
        #expect(try await client.session().state == .terminating)
        try await agent.stop()
    }
}
