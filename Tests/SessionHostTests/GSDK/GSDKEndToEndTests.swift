import Foundation
import NIOHTTP1
import SessionHostModel
import SessionHostSDK
import Testing

/// A GSDK game server as the public SDKs speak to their agent: it reads the config file the
/// agent wrote, then sends the SDK's exact requests (verb, URL, headers, JSON) over loopback TCP.
struct GSDKGameClient {
    let config: [String: Any]
    let client: HTTPTestClient
    let sessionHostId: String

    /// The C++ SDK's headers (curl adds Host and Content-Length).
    static let cppHeaders = [("Accept", "application/json"), ("Content-Type", "application/json; charset=utf-8")]
    /// The C# SDK's headers.
    static let csharpHeaders = [
        ("Accept", "application/json"), ("User-Agent", "Microsoft PlayFab Game SDK"),
        ("Content-Type", "application/json; charset=utf-8"),
    ]

    /// Reads `GSDK_CONFIG_FILE` once the agent has written it.
    static func reading(_ path: String, agent: AgentProcess) async throws -> GSDKGameClient {
        try await agent.waitForFile(path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let endpoint = try #require(config["heartbeatEndpoint"] as? String)
        let hostId = try #require(config["sessionHostId"] as? String)
        let parts = endpoint.split(separator: ":")
        let port = try #require(parts.last.flatMap { Int($0) })
        return GSDKGameClient(
            config: config, client: HTTPTestClient(host: String(parts[0]), port: port), sessionHostId: hostId)
    }

    /// The C++ SDK's heartbeat: PATCH /v1/sessionHosts/{id}.
    func cppHeartbeat(_ state: String, players: [String] = []) async throws -> HTTPTestClient.Answer {
        try await client.send(
            .PATCH, "/v1/sessionHosts/\(sessionHostId)", headers: Self.cppHeaders,
            body: Array(GSDKRequests.cpp(state, players: players).utf8))
    }

    /// The C# SDK's heartbeat: PATCH /v1/sessionHosts/{id}, Newtonsoft-indented.
    func csharpHeartbeat(_ state: String) async throws -> HTTPTestClient.Answer {
        try await client.send(
            .PATCH, "/v1/sessionHosts/\(sessionHostId)", headers: Self.csharpHeaders,
            body: Array(GSDKRequests.csharp(state).utf8))
    }

    /// The Go SDK's heartbeat: POST /v1/sessionHosts/{id}/heartbeats.
    func goHeartbeat(_ state: String) async throws -> HTTPTestClient.Answer {
        try await client.send(
            .POST, "/v1/sessionHosts/\(sessionHostId)/heartbeats", headers: [("Content-Type", "application/json")],
            body: Array(GSDKRequests.go(state).utf8))
    }
}

@Suite("GSDK end to end: real sessionhostd (and gsmsd) with GSDK game servers", .serialized)
struct GSDKEndToEndTests {
    static let sessionId = "3536d3e6-e85d-4f47-b898-9617d19dabcd"

    static func localAgent() async throws -> (AgentProcess, String) {
        let directory = try TemporaryDirectory()
        let configPath = directory.file("gsdkConfig.json")
        let agent = try AgentProcess(
            directory: directory,
            arguments: [
                "--title-id", "1234ABCD", "--hostname", "203.0.113.7", "--port", "game:udp:7777:30000",
                "--health-timeout", "0", "--gsdk-listen", "127.0.0.1:0", "--gsdk-config-file", configPath,
                "--gsdk-log-folder", directory.file("gamelogs"),
            ])
        try await agent.waitForReady()
        return (agent, configPath)
    }

    @Test("the agent writes the GSDK config file: endpoint, host id, ports, folders, address")
    func configFile() async throws {
        let (agent, configPath) = try await Self.localAgent()
        // READY=1 waits for the file, so a game server ordered after the agent finds it.
        let attributes = try FileManager.default.attributesOfItem(atPath: configPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o644, "world-readable: no secret in it")
        let game = try await GSDKGameClient.reading(configPath, agent: agent)
        let host = try await AgentClient(socketPath: agent.socketPath).host()
        #expect(game.sessionHostId == host.sessionHostId)
        #expect((game.config["heartbeatEndpoint"] as? String)?.hasPrefix("127.0.0.1:") == true)
        #expect(game.client.port > 0)
        #expect(game.config["gamePorts"] as? [String: String] == ["game": "7777"])
        #expect(game.config["publicIpV4Address"] as? String == "203.0.113.7")
        #expect(game.config["logFolder"] as? String == agent.directory.file("gamelogs"))
        let info = try #require(game.config["gameServerConnectionInfo"] as? [String: Any])
        let ports = try #require(info["gamePortsConfiguration"] as? [[String: Any]])
        #expect(ports.first?["serverListeningPort"] as? Int == 7777)
        #expect(ports.first?["clientConnectionPort"] as? Int == 30000)
        try await agent.stop()
    }

    @Test(
        "a C++ GSDK game server: gsdkinfo, StandingBy registers, a hand-off is Active with its session, the end releases it"
    )
    func cppLifecycle() async throws {
        let (agent, configPath) = try await Self.localAgent()
        let game = try await GSDKGameClient.reading(configPath, agent: agent)
        let socket = AgentClient(socketPath: agent.socketPath)

        let info = try await game.client.send(
            .POST, "/v1/metrics/\(game.sessionHostId)/gsdkinfo", headers: GSDKGameClient.cppHeaders,
            body: Array(GSDKRequests.cppInfo.utf8))
        #expect(info.status == 200, "\(info)")

        let initializing = try await game.cppHeartbeat("Initializing")
        #expect(initializing.status == 200, "\(initializing)")
        #expect(initializing.json["operation"] as? String == "Continue")
        #expect(initializing.json["nextHeartbeatIntervalMs"] as? Int == 1000)
        #expect(initializing.header("Content-Type")?.hasPrefix("application/json") == true)
        #expect(try await socket.host().state == .initializing)

        let standingBy = try await game.cppHeartbeat("StandingBy")
        #expect(standingBy.json["operation"] as? String == "Continue")
        #expect(standingBy.json["sessionConfig"] == nil)
        #expect(try await socket.host().state == .standingBy)

        _ = try await socket.allocateLocally(sessionId: Self.sessionId, sessionCookie: "map=dust2")
        let handedOver = try await game.cppHeartbeat("StandingBy")
        #expect(handedOver.json["operation"] as? String == "Active", "\(handedOver)")
        let config = try #require(handedOver.json["sessionConfig"] as? [String: Any])
        #expect(config["sessionId"] as? String == Self.sessionId)
        #expect(config["sessionCookie"] as? String == "map=dust2")

        let active = try await game.cppHeartbeat("Active", players: ["player-1"])
        #expect(active.json["operation"] as? String == "Continue")
        let session = try await socket.session()
        #expect(session.players == [Player(playerId: "player-1")])

        // The session ends on the socket side: the Active game server is told to terminate.
        _ = try await socket.endSession()
        let terminate = try await game.cppHeartbeat("Active")
        #expect(terminate.json["operation"] as? String == "Terminate")
        #expect(try await game.cppHeartbeat("Terminating").json["operation"] as? String == "Continue")

        // The game server's next process stands by again.
        #expect(try await game.cppHeartbeat("StandingBy").json["operation"] as? String == "Continue")
        #expect(try await socket.host().state == .standingBy)
        try await agent.stop()
    }

    @Test("C# and Go forms: PATCH with the C# headers and POST …/heartbeats both drive the host")
    func csharpAndGo() async throws {
        let (agent, configPath) = try await Self.localAgent()
        let game = try await GSDKGameClient.reading(configPath, agent: agent)
        let socket = AgentClient(socketPath: agent.socketPath)
        let csharp = try await game.csharpHeartbeat("StandingBy")
        #expect(csharp.status == 200, "\(csharp)")
        #expect(
            try await socket.host().state == .standingBy, "the C# SDK's default Unhealthy does not keep the host out")
        _ = try await socket.allocateLocally(sessionId: Self.sessionId, sessionCookie: nil)
        let go = try await game.goHeartbeat("StandingBy")
        #expect(go.status == 200, "\(go)")
        #expect(go.json["operation"] as? String == "Active")
        #expect((go.json["sessionConfig"] as? [String: Any])?["sessionId"] as? String == Self.sessionId)
        _ = try await game.goHeartbeat("Active")
        #expect(try await game.goHeartbeat("Terminated").status == 200)
        #expect(try await socket.host().state == .terminating)
        try await agent.stop()
    }

    @Test("bad requests get clear errors and change nothing; the agent keeps serving")
    func badRequests() async throws {
        let (agent, configPath) = try await Self.localAgent()
        let game = try await GSDKGameClient.reading(configPath, agent: agent)
        let path = "/v1/sessionHosts/\(game.sessionHostId)"
        let malformed = try await game.client.send(
            .PATCH, path, headers: GSDKGameClient.cppHeaders, body: Array("{\"CurrentGameState\":".utf8))
        #expect(malformed.status == 400)
        #expect(malformed.json["code"] as? String == "MalformedRequest")
        let unknown = try await game.client.send(
            .PATCH, "/v1/sessionHosts/someone-else", body: Array(GSDKRequests.cpp("StandingBy").utf8))
        #expect(unknown.status == 404)
        #expect(try await game.client.send(.GET, path).status == 405)
        #expect(try await AgentClient(socketPath: agent.socketPath).host().state == .initializing)
        #expect(try await game.cppHeartbeat("StandingBy").status == 200)
        try await agent.stop()
    }

    @Test("HTTP as curl speaks it: two heartbeats on one connection, Expect: 100-continue, a body over 64 KiB refused")
    func connectionHandling() async throws {
        let (agent, configPath) = try await Self.localAgent()
        let game = try await GSDKGameClient.reading(configPath, agent: agent)
        let body = GSDKRequests.cpp("StandingBy")
        let head =
            "PATCH /v1/sessionHosts/\(game.sessionHostId) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
            + "Content-Type: application/json; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n"
        let keepAlive = try LoopbackTCP.exchange(port: game.client.port, head + "\r\n" + body + head + "\r\n" + body) {
            LoopbackTCP.count("200 OK", in: $0) == 2 && $0.hasSuffix("}")
        }
        #expect(LoopbackTCP.count("200 OK", in: keepAlive) == 2, "\(keepAlive)")

        let continued = try LoopbackTCP.exchange(port: game.client.port, head + "Expect: 100-continue\r\n\r\n" + body) {
            $0.contains("200 OK") && $0.hasSuffix("}")
        }
        #expect(continued.hasPrefix("HTTP/1.1 100 Continue"), "\(continued)")
        #expect(continued.contains(#""operation":"Continue""#))

        let huge = try LoopbackTCP.exchange(
            port: game.client.port,
            "PATCH /v1/sessionHosts/\(game.sessionHostId) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 70000\r\n\r\n"
        ) { $0.contains("BodyTooLarge") }
        #expect(huge.hasPrefix("HTTP/1.1 413"), "\(huge)")
        #expect(try await game.cppHeartbeat("Active").status == 200, "the agent keeps serving")
        try await agent.stop()
    }

    @Test("a non-loopback --gsdk-listen is refused at start with a clear error")
    func refusesNonLoopback() async throws {
        let directory = try TemporaryDirectory()
        let result = try await ProcessRun.run(
            Binaries.sessionhostd,
            [
                "--socket", directory.file("a.sock"), "--state-dir", directory.file("s"), "--gsdk-listen",
                "0.0.0.0:56001",
            ],
            in: directory)
        #expect(result.status != 0)
        #expect(result.stderr.contains("loopback"), "\(result.stderr)")
    }

    @Test("a GSDK port already in use stops the agent with a clear error")
    func portInUse() async throws {
        let directory = try TemporaryDirectory()
        let (descriptor, port) = try LoopbackTCP.occupyPort()
        defer { close(descriptor) }
        let result = try await ProcessRun.run(
            Binaries.sessionhostd,
            [
                "--socket", directory.file("a.sock"), "--state-dir", directory.file("s"), "--gsdk-listen",
                "127.0.0.1:\(port)",
            ],
            in: directory)
        #expect(result.status != 0)
        #expect(
            (result.stdout + result.stderr).contains(
                "cannot listen for GSDK game servers on 127.0.0.1:\(port): address already in use"), "\(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains("bind(descriptor"), "\(result.stderr)")
    }

    @Test(
        "without --gsdk-log-folder the config file names gsdk-logs in the state directory, created and writable by the agent's group"
    )
    func defaultLogFolder() async throws {
        let directory = try TemporaryDirectory()
        let configPath = directory.file("gsdkConfig.json")
        let agent = try AgentProcess(
            directory: directory,
            arguments: [
                "--health-timeout", "0", "--gsdk-listen", "127.0.0.1:0", "--gsdk-config-file", configPath,
            ])
        try await agent.waitForReady()
        let game = try await GSDKGameClient.reading(configPath, agent: agent)
        // Empty, the Go SDK would open /GSDK_output_*.txt and panic as any user but root.
        let folder = try #require(game.config["logFolder"] as? String)
        #expect(folder == agent.stateDirectory + "/gsdk-logs")
        var info = stat()
        #expect(stat(folder, &info) == 0, "the folder exists")
        #expect(info.st_mode & S_IFMT == S_IFDIR)
        #expect(
            info.st_mode & 0o070 == 0o070,
            "the group (the game server's) may write: \(String(info.st_mode & 0o7777, radix: 8))")
        #expect(info.st_gid == getegid(), "the agent's group")
        try await agent.stop()
    }

    @Test(
        "--gsdk-listen 127.0.0.1:0 keeps its port across a SIGKILL and restart: a running game server's heartbeats still arrive"
    )
    func portKeptAcrossRestart() async throws {
        let (agent, configPath) = try await Self.localAgent()
        let running = try await GSDKGameClient.reading(configPath, agent: agent)
        #expect(try await running.cppHeartbeat("StandingBy").status == 200)

        try await agent.stop(signal: SIGKILL)
        try await agent.restart()
        let rewritten = try await GSDKGameClient.reading(configPath, agent: agent)
        #expect(rewritten.client.port == running.client.port, "the config file names the same port")
        // The game server read the file once, before the restart: it heartbeats that port.
        let answer = try await running.cppHeartbeat("StandingBy")
        #expect(answer.status == 200, "\(answer)")
        #expect(answer.json["operation"] as? String == "Continue")
        #expect(try await AgentClient(socketPath: agent.socketPath).host().state == .standingBy)
        try await agent.stop()
    }

    @Test("a kept GSDK port that another process took meanwhile stops the agent with a clear error")
    func keptPortTaken() async throws {
        let (agent, configPath) = try await Self.localAgent()
        let port = try await GSDKGameClient.reading(configPath, agent: agent).client.port
        try await agent.stop()
        let descriptor = try LoopbackTCP.occupy(port: port)
        defer { close(descriptor) }
        let status = try await agent.restartExpectingExit()
        #expect(status != 0)
        #expect(
            agent.log.contains("cannot listen for GSDK game servers on 127.0.0.1:\(port), the port picked"),
            "\(agent.log)")
        #expect(agent.log.contains("gsdk.json"), "names the file to delete")
    }

    @Test(
        "a kept GSDK port is given up once the config file naming it is gone (a reboot empties /run): the agent picks a new one"
    )
    func keptPortForgottenWithConfigFile() async throws {
        let (agent, configPath) = try await Self.localAgent()
        let port = try await GSDKGameClient.reading(configPath, agent: agent).client.port
        try await agent.stop()
        try FileManager.default.removeItem(atPath: configPath)
        let descriptor = try LoopbackTCP.occupy(port: port)
        defer { close(descriptor) }
        try await agent.restart()
        let game = try await GSDKGameClient.reading(configPath, agent: agent)
        #expect(game.client.port != port)
        #expect(try await game.cppHeartbeat("StandingBy").status == 200)
        try await agent.stop()
        // The new port is the one kept from now on.
        try await agent.restart()
        #expect(try await GSDKGameClient.reading(configPath, agent: agent).client.port == game.client.port)
        try await agent.stop()
    }

    @Test(
        "through gsmsd: a GSDK game server stands by, a title allocates, the game gets Active with the session, ends, and the host is released"
    )
    func throughGSMS() async throws {
        let gsms = try await GSMSProcess()
        let configPath = gsms.directory.file("gsdkConfig-vm-1.json")
        let agent = try await EndToEndHandoffTests.agent(
            gsms, hostId: "vm-1", extra: ["--gsdk-listen", "127.0.0.1:0", "--gsdk-config-file", configPath])
        let game = try await GSDKGameClient.reading(configPath, agent: agent)
        #expect(game.sessionHostId == "vm-1")

        #expect(try await game.cppHeartbeat("Initializing").json["operation"] as? String == "Continue")
        #expect(try await game.cppHeartbeat("StandingBy").json["operation"] as? String == "Continue")
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy")

        let allocation = try await gsms.allocate(["sessionId": Self.sessionId, "sessionCookie": "map=dust2"])
        #expect(allocation.status == 200, "\(allocation)\n\(agent.log)")

        // The game server learns of its session on its next heartbeat, as with PlayFab's agent.
        let handedOver = try await game.cppHeartbeat("StandingBy")
        #expect(handedOver.json["operation"] as? String == "Active", "\(handedOver)")
        let config = try #require(handedOver.json["sessionConfig"] as? [String: Any])
        #expect(config["sessionId"] as? String == Self.sessionId)
        #expect(config["sessionCookie"] as? String == "map=dust2")
        #expect(try await game.cppHeartbeat("Active", players: ["p1"]).json["operation"] as? String == "Continue")
        #expect(try await gsms.hostStatus("vm-1").json["state"] as? String == "Active")

        // The match is over: the game server reports Terminating; the host is released.
        _ = try await game.cppHeartbeat("Terminating")
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "Terminating")
        let lookUp = try await gsms.client.send(
            .GET, "/titles/1234/sessionhosts/\(Self.sessionId)",
            headers: [try await GSMSProcess.authorization(["1234"])])
        #expect(lookUp.status == 404)

        // Its next process stands by and the host is back in the pool.
        _ = try await game.cppHeartbeat("StandingBy")
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy")
        try await agent.stop()
        try await gsms.stop()
    }

    @Test("through gsmsd's /clusters: a session whose id is a path reaches the game server in metadata, not as a GUID")
    func clusterSession() async throws {
        let gsms = try await GSMSProcess()
        let configPath = gsms.directory.file("gsdkConfig-vm-3.json")
        let agent = try await EndToEndHandoffTests.agent(
            gsms, hostId: "vm-3", extra: ["--gsdk-listen", "127.0.0.1:0", "--gsdk-config-file", configPath])
        let game = try await GSDKGameClient.reading(configPath, agent: agent)
        _ = try await game.csharpHeartbeat("StandingBy")
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-3", state: "StandingBy")
        let path = "/serviceconfigs/00000000-0000-0000-0000-000000000001/sessiontemplates/match/session/abc"
        let answer = try await gsms.cluster(["sessionId": path])
        #expect(answer.json["fulfillmentState"] as? String == "Fulfilled", "\(answer)")
        let handedOver = try await game.csharpHeartbeat("StandingBy")
        #expect(handedOver.json["operation"] as? String == "Active", "\(handedOver)")
        let config = try #require(handedOver.json["sessionConfig"] as? [String: Any])
        #expect(config["sessionId"] == nil, "the C# SDK parses sessionId as a GUID")
        #expect(config["metadata"] as? [String: String] == ["sessionId": path])
        try await agent.stop()
        try await gsms.stop()
    }

    @Test(
        "through gsmsd: a GSDK game server that takes its session and exits (falls silent) releases the host after the health timeout"
    )
    func silentGameReleasesHost() async throws {
        let gsms = try await GSMSProcess()
        let configPath = gsms.directory.file("gsdkConfig-vm-2.json")
        let agent = try await EndToEndHandoffTests.agent(
            gsms, hostId: "vm-2",
            extra: ["--gsdk-listen", "127.0.0.1:0", "--gsdk-config-file", configPath, "--health-timeout", "2"])
        let game = try await GSDKGameClient.reading(configPath, agent: agent)

        // Heartbeat StandingBy like the SDK until the session arrives, then once Active, then exit.
        let (client, path) = (game.client, "/v1/sessionHosts/\(game.sessionHostId)")
        let handedOver = Task { () async throws -> HTTPTestClient.Answer in
            while true {
                let answer = try await client.send(
                    .PATCH, path, headers: GSDKGameClient.cppHeaders, body: Array(GSDKRequests.cpp("StandingBy").utf8))
                if answer.json["operation"] as? String == "Active" { return answer }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-2", state: "StandingBy")
        let allocation = try await gsms.allocate(["sessionId": Self.sessionId])
        #expect(allocation.status == 200, "\(allocation)\n\(agent.log)")
        let answer = try await Deadline.within(.seconds(30), "the Active operation") { try await handedOver.value }.json
        #expect((answer["sessionConfig"] as? [String: Any])?["sessionId"] as? String == Self.sessionId)
        #expect(try await game.cppHeartbeat("Active").json["operation"] as? String == "Continue")

        // No more heartbeats: after the health timeout the session is ended and gsmsd releases the host.
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-2", state: "Terminating", timeout: .seconds(30))
        let lookUp = try await gsms.client.send(
            .GET, "/titles/1234/sessionhosts/\(Self.sessionId)",
            headers: [try await GSMSProcess.authorization(["1234"])])
        #expect(lookUp.status == 404)
        #expect(agent.log.contains("stopped heartbeating"))
        try await agent.stop()
        try await gsms.stop()
    }

    @Test(
        "through gsmsd: after the agent is SIGKILLed and restarted, a new game process is not handed the session its predecessor took; gsmsd releases it"
    )
    func newProcessAfterAgentRestart() async throws {
        let gsms = try await GSMSProcess()
        let configPath = gsms.directory.file("gsdkConfig-vm-4.json")
        let agent = try await EndToEndHandoffTests.agent(
            gsms, hostId: "vm-4", extra: ["--gsdk-listen", "127.0.0.1:0", "--gsdk-config-file", configPath])
        let game = try await GSDKGameClient.reading(configPath, agent: agent)
        _ = try await game.cppHeartbeat("StandingBy")
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-4", state: "StandingBy")
        let allocation = try await gsms.allocate(["sessionId": Self.sessionId, "sessionCookie": "map=dust2"])
        #expect(allocation.status == 200, "\(allocation)\n\(agent.log)")
        // The game server sees its session once gsmsd confirmed the hand-off, a moment after the 200.
        try await Deadline.waitUntilAsync("the game server to be handed its session") {
            try await game.cppHeartbeat("StandingBy").json["operation"] as? String == "Active"
        }
        #expect(try await game.cppHeartbeat("Active", players: ["p1"]).json["operation"] as? String == "Continue")

        // The agent is killed; while it is down the match ends and the game server exits.
        try await agent.stop(signal: SIGKILL)
        try await agent.restart()

        // systemd starts the next game server process: it reads the config file and starts over.
        let next = try await GSDKGameClient.reading(configPath, agent: agent)
        #expect(try await next.cppHeartbeat("Initializing").json["operation"] as? String == "Continue")
        let standingBy = try await next.cppHeartbeat("StandingBy")
        #expect(standingBy.json["operation"] as? String == "Continue", "not Active with the old session: \(standingBy)")
        #expect(standingBy.json["sessionConfig"] == nil)

        // The old session ended the agent's normal way: gsmsd was told and the host is back in the pool.
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-4", state: "StandingBy")
        let lookUp = try await gsms.client.send(
            .GET, "/titles/1234/sessionhosts/\(Self.sessionId)",
            headers: [try await GSMSProcess.authorization(["1234"])])
        #expect(lookUp.status == 404, "\(lookUp)")
        #expect(try await AgentClient(socketPath: agent.socketPath).host().state == .standingBy)
        try await agent.stop()
        try await gsms.stop()
    }
}
