import Foundation
import SessionHostSDK
import Testing

/// Errors say what is wrong and what to do, in words, never an internal name: no
/// `connect(descriptor:addr:size:)`, `bind(descriptor:ptr:bytes:)`, `CocoaError` or Swift type.
@Suite("error messages in words", .serialized)
struct ErrorMessageTests {
    static let internals = [
        "connect(descriptor", "bind(descriptor", "CocoaError", "Dictionary<", "errno:", "NSUnderlyingError",
    ]

    static func expectNoInternals(_ text: String, _ comment: String = "") {
        for name in internals {
            #expect(!text.contains(name), "\(comment): '\(name)' in \(text)")
        }
    }

    @Test("sessionhostctl: a missing socket, a socket this user may not use, a missing --cookie-file")
    func controlErrors() async throws {
        let agent = try await AgentProcess.started()
        let missing = try await ProcessRun.run(
            Binaries.sessionhostctl, ["host", "--socket", agent.directory.file("nowhere.sock")], in: agent.directory)
        #expect(missing.status == 3)
        #expect(missing.stderr.contains("there is no agent socket at"), "\(missing.stderr)")
        Self.expectNoInternals(missing.stderr, "missing socket")

        let denied = try await ProcessRun.run(
            "/usr/bin/setpriv",
            [
                "--reuid", "65534", "--regid", "65534", "--clear-groups", Binaries.sessionhostctl, "host", "--socket",
                agent.socketPath,
            ],
            in: agent.directory)
        #expect(denied.status == 3)
        #expect(denied.stderr.contains("permission denied on \(agent.socketPath)"), "\(denied.stderr)")
        Self.expectNoInternals(denied.stderr, "denied")

        let cookie = try await ProcessRun.run(
            Binaries.sessionhostctl,
            [
                "allocate", "--socket", agent.socketPath, "--session-id", "3536d3e6-e85d-4f47-b898-9617d19dabcd",
                "--cookie-file", agent.directory.file("no-cookie"),
            ],
            in: agent.directory)
        #expect(cookie.status == 64)
        #expect(
            cookie.stderr.contains("cannot read --cookie-file") && cookie.stderr.contains("no such file"),
            "\(cookie.stderr)")
        Self.expectNoInternals(cookie.stderr, "cookie file")
        try await agent.stop()
    }

    @Test("API errors name JSON kinds, not Swift types, on the agent and on gsmsd")
    func jsonKinds() async throws {
        let agent = try await AgentProcess.started()
        let (status, body) = try await AgentClient(socketPath: agent.socketPath).raw(
            method: "POST", path: "/v1/heartbeat", body: Array("[1, 2]".utf8))
        let text = String(decoding: body, as: UTF8.self)
        #expect(status == 400)
        #expect(text.contains("a JSON object"), "\(text)")
        Self.expectNoInternals(text, "agent heartbeat")
        try await agent.stop()

        let gsms = try await GSMSProcess()
        let answer = try await gsms.client.send(
            .POST, "/titles/1234/sessionhosts", headers: [try await GSMSProcess.authorization(["1234"])],
            json: ["sessionId": ["not", "a", "string"]])
        #expect(answer.status == 400)
        #expect(answer.text.contains("a string"), "\(answer.text)")
        Self.expectNoInternals(answer.text, "gsmsd")
        try await gsms.stop()
    }

    @Test("a port in use: gsmsd and the agent's metrics say which address and why")
    func portInUse() async throws {
        let (descriptor, port) = try LoopbackTCP.occupyPort()
        defer { close(descriptor) }
        let directory = try TemporaryDirectory()
        let key = directory.file("key")
        try Data(String(repeating: "k", count: 40).utf8).write(to: URL(fileURLWithPath: key))
        let gsmsd = try await ProcessRun.run(
            Binaries.gsmsd,
            [
                "--listen", "127.0.0.1:\(port)", "--database", directory.file("db.sqlite"), "--title", "1234",
                "--token-key-file", key, "--agent-token-file", key,
            ],
            in: directory)
        #expect(gsmsd.status == 1)
        let gsmsdText = gsmsd.stdout + gsmsd.stderr
        #expect(gsmsdText.contains("cannot listen on 127.0.0.1:\(port): address already in use"), "\(gsmsdText)")
        Self.expectNoInternals(gsmsdText, "gsmsd")

        let agent = try await AgentProcess.started(arguments: ["--metrics-listen", "127.0.0.1:\(port)"])
        try await Deadline.waitUntil("the metrics failure logged") { agent.log.contains("cannot serve metrics") }
        let line = agent.log.split(separator: "\n").first { $0.contains("cannot serve metrics") }.map(String.init) ?? ""
        #expect(line.contains("address already in use"), "\(line)")
        Self.expectNoInternals(line, "agent metrics")
        try await agent.stop()
    }
}
