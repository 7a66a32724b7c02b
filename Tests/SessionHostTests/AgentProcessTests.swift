import Foundation
import SessionHostModel
import SessionHostSDK
import Testing

/// End-to-end tests that start the real `sessionhostd` executable.
@Suite("sessionhostd process: systemd notify, restarts, socket activation, peers, hostile input", .serialized)
struct AgentProcessTests {
    static let sessionId = "3536d3e6-e85d-4f47-b898-9617d19dabcd"

    @Test("READY=1 only once the socket serves; STATUS follows the state; SIGTERM sends STOPPING=1 and exits 0")
    func notifyLifecycle() async throws {
        let agent = try await AgentProcess.started(arguments: ["--title-id", "1234ABCD", "--region", "WestUS"])
        let ready = try #require(agent.notify.received.first { $0.contains("READY=1") })
        #expect(ready.contains("STATUS=Initializing"))
        // The socket serves as soon as READY=1 arrived.
        let client = AgentClient(socketPath: agent.socketPath)
        #expect(try await client.host().state == .initializing)

        try await client.ready()
        try await agent.waitForStatus(containing: "StandingBy (title 1234ABCD, region WestUS)")
        try await client.allocateLocally(sessionId: Self.sessionId, sessionCookie: "c")
        try await agent.waitForStatus(containing: "Active session \(Self.sessionId)")

        #expect(try await agent.stop(signal: SIGTERM) == 0)
        try await agent.notify.waitFor("STOPPING=1") { $0.contains("STOPPING=1") }
        #expect(!FileManager.default.fileExists(atPath: agent.socketPath), "the agent removes the socket it bound")
    }

    @Test("WATCHDOG=1 is sent when systemd asks for a watchdog")
    func watchdog() async throws {
        let agent = try await AgentProcess.started(environment: ["WATCHDOG_USEC": "200000"])
        try await agent.notify.waitFor("WATCHDOG=1") { $0.contains("WATCHDOG=1") }
        try await agent.notify.waitFor("a second WATCHDOG=1") { _ in
            agent.notify.received.filter { $0.contains("WATCHDOG=1") }.count >= 2
        }
        try await agent.stop()
    }

    @Test("after SIGKILL and a restart the game reads the same session and cookie")
    func restartKeepsSession() async throws {
        let agent = try await AgentProcess.started(arguments: ["--title-id", "1234ABCD"])
        let client = AgentClient(socketPath: agent.socketPath)
        try await client.ready()
        let cookie = String(repeating: "é", count: 2048) // 4096 bytes of UTF-8
        try await client.allocateLocally(sessionId: Self.sessionId, sessionCookie: cookie)
        let hostId = try await client.host().sessionHostId

        try await agent.stop(signal: SIGKILL)
        try await agent.restart()
        let session = try await client.session()
        #expect(session.state == .active)
        #expect(session.sessionId == Self.sessionId)
        #expect(session.sessionCookie == cookie)
        #expect(try await client.host().sessionHostId == hostId)
        try await agent.stop()
    }

    @Test("a long poll wakes the moment the hand-off arrives")
    func longPoll() async throws {
        let agent = try await AgentProcess.started()
        let client = AgentClient(socketPath: agent.socketPath)
        try await client.ready()
        let events = client.events()
        var iterator = events.makeAsyncIterator()
        #expect(try await iterator.next()?.state == .standingBy)
        let waiter = Task { try await client.session(wait: .seconds(600)) }
        // Hand over from another process, as an operator would.
        let allocated = try await ProcessRun.run(
            Binaries.sessionhostctl,
            ["allocate", "--socket", agent.socketPath, "--session-id", Self.sessionId, "--cookie", "map=dust2"],
            in: agent.directory)
        #expect(allocated.status == 0)
        let session = try await waiter.value
        #expect(session.sessionId == Self.sessionId)
        #expect(session.sessionCookie == "map=dust2")
        #expect(try await iterator.next()?.state == .active)
        try await agent.stop()
    }

    @Test("sessionhostctl events writes each event at once into a file or a pipe, not when it exits")
    func eventsFlushed() async throws {
        let agent = try await AgentProcess.started()
        let client = AgentClient(socketPath: agent.socketPath)
        let outPath = agent.directory.file("events.out")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: Binaries.sessionhostctl)
        follower.arguments = ["events", "--socket", agent.socketPath]
        follower.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        try follower.run()
        defer { if follower.isRunning { follower.terminate() } }
        func written() -> String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
        try await Deadline.waitUntil("the current state written to the file") { written().contains("Initializing") }
        try await client.ready()
        try await Deadline.waitUntil("the StandingBy event written to the file") { written().contains("StandingBy") }
        #expect(follower.isRunning, "the follower is still following")
        try await agent.stop()
    }

    @Test("a game that stops heartbeating makes the host Unhealthy, in STATUS and the events stream")
    func healthTimeout() async throws {
        let agent = try await AgentProcess.started(arguments: ["--health-timeout", "0.3"])
        let client = AgentClient(socketPath: agent.socketPath)
        try await client.ready()
        try await agent.waitForStatus(containing: "Unhealthy: no heartbeat")
        #expect(try await client.session().state == .unhealthy)
        // The heartbeat's own answer shows the recovery; a later read could race the 0.3 s timeout
        // on a slow machine and see Unhealthy again, which is correct too.
        #expect(try await client.heartbeat(HeartbeatRequest(health: .healthy)).state == .standingBy)
        try await agent.stop()
    }

    @Test(
        "a setting that cannot be used stops the start with exit 1 and the reason; an unknown flag is a usage error (64)"
    )
    func startupRefusals() async throws {
        let directory = try TemporaryDirectory()
        let base = ["--socket", directory.file("a.sock"), "--state-dir", directory.file("s")]
        let badPort = try await ProcessRun.run(
            Binaries.sessionhostd, base + ["--port", "game:udp:notaport:30000"], in: directory)
        #expect(badPort.status == 1, "\(badPort.stderr)")
        #expect(badPort.stderr.contains("sessionhostd: error: "), "\(badPort.stderr)")
        let unknownFlag = try await ProcessRun.run(Binaries.sessionhostd, base + ["--no-such-flag"], in: directory)
        #expect(unknownFlag.status == 64, "\(unknownFlag.stderr)")
    }

    @Test("a second agent on the same state directory or the same socket is refused clearly; the first keeps serving")
    func oneAgentPerStateDirectoryAndSocket() async throws {
        let first = try await AgentProcess.started()
        let client = AgentClient(socketPath: first.socketPath)
        let hostId = try await client.host().sessionHostId

        let sameState = try await ProcessRun.run(
            Binaries.sessionhostd,
            ["--socket", first.directory.file("other.sock"), "--state-dir", first.stateDirectory], in: first.directory)
        #expect(sameState.status == 1, "\(sameState.stderr)")
        #expect(
            sameState.stderr.contains("StateDirectoryInUse")
                || sameState.stderr.contains(
                    "another sessionhostd (pid \(first.process.processIdentifier)) is using the state directory"),
            "\(sameState.stderr)")

        let sameSocket = try await ProcessRun.run(
            Binaries.sessionhostd, ["--socket", first.socketPath, "--state-dir", first.directory.file("other-state")],
            in: first.directory)
        #expect(sameSocket.status == 1, "\(sameSocket.stderr)")
        #expect(sameSocket.stderr.contains("another process serves \(first.socketPath)"), "\(sameSocket.stderr)")

        // The first agent still owns its socket and its identity.
        #expect(try await client.host().sessionHostId == hostId)
        try await first.stop()
        // Once it is gone, its state directory and a stale socket file are free again.
        let second = try AgentProcess(directory: first.directory, arguments: [])
        try await second.waitForReady()
        #expect(try await AgentClient(socketPath: second.socketPath).host().sessionHostId == hostId)
        try await second.stop()
    }

    @Test("agents on one machine without --host-id derive different ids from their state directories")
    func derivedIdsDiffer() async throws {
        let one = try await AgentProcess.started()
        let two = try await AgentProcess.started()
        let first = try await AgentClient(socketPath: one.socketPath).host().sessionHostId
        let second = try await AgentClient(socketPath: two.socketPath).host().sessionHostId
        #expect(first != second)
        try await one.stop()
        try await two.stop()
    }

    @Test("the socket systemd passes (systemd-socket-activate) is used instead of binding")
    func socketActivation() async throws {
        let directory = try TemporaryDirectory()
        let activated = directory.file("activated.sock")
        let unused = directory.file("agent.sock")
        let agent = try AgentProcess(
            wrapping: "/usr/bin/systemd-socket-activate",
            arguments: [
                "-l", activated, "-E", "NOTIFY_SOCKET", Binaries.sessionhostd, "--socket", unused, "--state-dir",
                directory.file("state"),
            ],
            directory: directory)
        // systemd-socket-activate starts the agent on the first connection.
        try await agent.waitForFile(activated)
        let client = AgentClient(socketPath: activated)
        let host = try await client.host()
        #expect(host.state == .initializing)
        try await agent.waitForReady()
        #expect(!FileManager.default.fileExists(atPath: unused), "the agent did not bind a socket of its own")
        try await agent.stop()
    }

    @Test("peers outside the allowed users and groups get 403; allowed groups get in")
    func peerCredentials() async throws {
        let agent = try await AgentProcess.started(arguments: ["--allow-group", "4242"])
        // Let anyone reach the socket file, so that only the credential check stands in the way.
        chmod(agent.socketPath, 0o666)
        let stranger = try await runAs(
            agent.directory, uid: 65534, groups: [], ["host", "--socket", agent.socketPath, "--json"])
        #expect(stranger.status == 1)
        #expect(stranger.stderr.contains("PeerNotAllowed"))

        let member = try await runAs(
            agent.directory, uid: 65534, groups: [4242], ["ready", "--socket", agent.socketPath, "--json"])
        #expect(member.status == 0, "\(member.stderr)")
        #expect(member.stdout.contains("StandingBy"))

        let handOff = try await runAs(
            agent.directory, uid: 65534, groups: [4242],
            ["allocate", "--socket", agent.socketPath, "--session-id", Self.sessionId])
        #expect(handOff.status == 1, "only root or the agent's user may hand over a session")
        #expect(handOff.stderr.contains("PeerNotAllowed"))
        #expect(try await AgentClient(socketPath: agent.socketPath).session().state == .standingBy)
        try await agent.stop()
    }

    @Test("malformed, oversized and garbage requests are refused and the agent keeps serving")
    func hostileInput() async throws {
        let agent = try await AgentProcess.started()
        let client = AgentClient(socketPath: agent.socketPath)
        try await client.ready()

        let big = String(repeating: "x", count: 70_000)
        let oversized = try RawHTTP.exchange(
            socketPath: agent.socketPath,
            request: Array(
                "POST /v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: \(big.utf8.count)\r\n\r\n\(big)".utf8))
        #expect(RawHTTP.statusCode(of: oversized) == 413)

        let chunked = try RawHTTP.exchange(
            socketPath: agent.socketPath,
            request: Array(
                "POST /v1/heartbeat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n11170\r\n\(big)\r\n0\r\n\r\n"
                    .utf8))
        #expect(RawHTTP.statusCode(of: chunked) == 413)

        let garbage = try RawHTTP.exchange(
            socketPath: agent.socketPath, request: Array("\u{01}\u{02} not http at all\r\n\r\n".utf8))
        #expect(RawHTTP.statusCode(of: garbage) == 400)

        let badJSON = try RawHTTP.exchange(
            socketPath: agent.socketPath,
            request: Array(
                "POST /v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{\"a\":".utf8))
        #expect(RawHTTP.statusCode(of: badJSON) == 400)

        let invalidUTF8 = try RawHTTP.exchange(
            socketPath: agent.socketPath,
            request: Array(
                "POST /v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\n".utf8) + [
                    0x7B, 0xFF, 0xFE, 0x7D,
                ])
        #expect(RawHTTP.statusCode(of: invalidUTF8) == 400)

        // A half-finished request on one connection does not hold up another.
        let slow = try RawHTTP.exchange(
            socketPath: agent.socketPath, request: Array("GET /v1/ho".utf8), timeout: .milliseconds(300))
        #expect(slow.isEmpty)
        #expect(try await client.session().state == .standingBy)
        #expect(try await agent.stop() == 0)
    }

    /// Runs sessionhostctl as another user with `setpriv`.
    func runAs(_ directory: TemporaryDirectory, uid: UInt32, groups: [UInt32], _ arguments: [String]) async throws
        -> ProcessRun.Result
    {
        let groupArguments =
            groups.isEmpty ? ["--clear-groups"] : ["--groups", groups.map(String.init).joined(separator: ",")]
        return try await ProcessRun.run(
            "/usr/bin/setpriv",
            ["--reuid", String(uid), "--regid", String(uid)] + groupArguments + [Binaries.sessionhostctl] + arguments,
            in: directory)
    }
}
