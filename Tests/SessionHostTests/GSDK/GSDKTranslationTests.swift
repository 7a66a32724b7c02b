import Foundation
import Logging
import SessionHostAgent
import SessionHostModel
import Testing

/// The bodies the public GSDKs send, byte for byte as their JSON writers format them
/// (docs/gsdk-compatibility.md names the sources).
enum GSDKRequests {
    /// C++ SDK: jsoncpp `toStyledString()` (sorted keys, 3-space indent, `" : "`); `null` without players.
    static func cpp(_ state: String, players: [String] = []) -> String {
        let list: String
        if players.isEmpty {
            list = "null"
        } else {
            list =
                "[\n" + players.map { "      {\n         \"PlayerId\" : \"\($0)\"\n      }" }.joined(separator: ",\n")
                + "\n   ]"
        }
        return
            "{\n   \"CurrentGameHealth\" : \"Healthy\",\n   \"CurrentGameState\" : \"\(state)\",\n   \"CurrentPlayers\" : \(list)\n}\n"
    }

    /// C# SDK: Newtonsoft `Formatting.Indented`, declaration order, an empty array without players;
    /// "Unhealthy" unless the game registered a health callback.
    static func csharp(_ state: String, health: String = "Unhealthy") -> String {
        "{\n  \"CurrentGameState\": \"\(state)\",\n  \"CurrentGameHealth\": \"\(health)\",\n  \"CurrentPlayers\": []\n}"
    }

    /// Go SDK: `encoding/json`, compact, `null` without players.
    static func go(_ state: String) -> String {
        #"{"CurrentGameState":"\#(state)","CurrentGameHealth":"Unhealthy","CurrentPlayers":null}"#
    }

    /// Java SDK: Gson, compact, camelCase field names.
    static func java(_ state: String, players: [String]) -> String {
        let list = players.map { #"{"playerId":"\#($0)"}"# }.joined(separator: ",")
        return #"{"currentGameState":"\#(state)","currentGameHealth":"Healthy","currentPlayers":[\#(list)]}"#
    }

    /// C++ `gsdkinfo`.
    static let cppInfo = "{\n   \"Flavor\" : \"C++\",\n   \"Version\" : \"2.0.0\"\n}\n"
    /// C# `gsdkinfo`.
    static let csharpInfo = "{\n  \"Flavor\": \"C#\",\n  \"Version\": \"2.0.0\"\n}"
}

@Suite("GSDK: wire models and the heartbeat translation")
struct GSDKTranslationTests {
    static func decode(_ text: String) throws -> GSDKHeartbeatRequest {
        try JSONDecoder().decode(GSDKHeartbeatRequest.self, from: Data(text.utf8))
    }

    @Test("the heartbeat of every SDK decodes: PascalCase and camelCase, null and empty player lists")
    func requestShapes() throws {
        let cpp = try Self.decode(GSDKRequests.cpp("StandingBy", players: ["p1", "p2"]))
        #expect(
            cpp
                == GSDKHeartbeatRequest(
                    currentGameState: .standingBy, currentGameHealth: "Healthy",
                    currentPlayers: [Player(playerId: "p1"), Player(playerId: "p2")]))
        #expect(try Self.decode(GSDKRequests.cpp("Initializing")).currentPlayers.isEmpty)
        #expect(try Self.decode(GSDKRequests.csharp("Active")).currentGameState == .active)
        #expect(try Self.decode(GSDKRequests.go("Terminating")).currentGameState == .terminating)
        let java = try Self.decode(GSDKRequests.java("Active", players: ["p9"]))
        #expect(java.currentGameState == .active)
        #expect(java.currentPlayers == [Player(playerId: "p9")])
        #expect(try Self.decode(#"{"CurrentGameState":"terminated"}"#).currentGameState == .terminated)
        #expect(
            try Self.decode(#"{"CurrentGameState":2,"CurrentGameHealth":"Healthy"}"#).currentGameState == .standingBy)
    }

    @Test("a heartbeat without a known CurrentGameState is refused")
    func badRequests() {
        #expect(throws: DecodingError.self) { try Self.decode(#"{"CurrentGameHealth":"Healthy"}"#) }
        #expect(throws: DecodingError.self) { try Self.decode(#"{"CurrentGameState":"Sleeping"}"#) }
        #expect(throws: DecodingError.self) { try Self.decode(#"{"CurrentGameState":7}"#) }
        #expect(throws: DecodingError.self) { try Self.decode(#"{"CurrentGameState":true}"#) }
        #expect(throws: DecodingError.self) {
            try Self.decode(#"{"CurrentGameState":"Active","CurrentPlayers":[{"Name":"x"}]}"#)
        }
    }

    @Test("the steps of each game state, as the table in the docs says")
    func steps() {
        typealias T = GSDKHeartbeatTranslation
        let s = "3536d3e6-e85d-4f47-b898-9617d19dabcd"
        #expect(T.steps(gameState: .standingBy, session: nil, taken: nil) == [.ready])
        #expect(T.steps(gameState: .standingBy, session: s, taken: nil) == [.signOfLife])
        #expect(T.steps(gameState: .standingBy, session: s, taken: s) == [.endSession, .ready])
        #expect(T.steps(gameState: .standingBy, session: s, taken: "other") == [.signOfLife])
        #expect(T.steps(gameState: .active, session: s, taken: nil) == [.signOfLife])
        #expect(T.steps(gameState: .active, session: nil, taken: s) == [])
        #expect(T.steps(gameState: .initializing, session: s, taken: s) == [.endSession])
        #expect(T.steps(gameState: .initializing, session: s, taken: nil) == [])
        #expect(T.steps(gameState: .initializing, session: nil, taken: nil) == [])
        for state in [GSDKGameState.terminating, .terminated, .quarantined] {
            #expect(T.steps(gameState: state, session: s, taken: nil) == [.endSession])
            #expect(T.steps(gameState: state, session: nil, taken: nil) == [])
        }
    }

    @Test("the operation: Active hands over a session, Terminate stops a game whose session is gone")
    func operations() {
        typealias T = GSDKHeartbeatTranslation
        #expect(T.operation(gameState: .standingBy, session: nil) == .continue)
        #expect(T.operation(gameState: .standingBy, session: "s") == .active)
        #expect(T.operation(gameState: .active, session: "s") == .continue)
        #expect(T.operation(gameState: .active, session: nil) == .terminate)
        #expect(T.operation(gameState: .initializing, session: "s") == .continue)
        #expect(T.operation(gameState: .terminating, session: nil) == .continue)
    }

    @Test("the answer's JSON: camelCase members, sessionConfig with the session, a GUID-only sessionId")
    func responseShape() throws {
        let session = SessionInfo(
            state: .active, sessionId: "3536d3e6-e85d-4f47-b898-9617d19dabcd", sessionCookie: "map=dust2",
            allocatedAt: "2026-11-21T17:27:42.759Z")
        let response = GSDKHeartbeatResponse(
            currentGameState: "StandingBy", operation: .active, nextHeartbeatIntervalMs: 1000,
            sessionConfig: GSDKHeartbeatTranslation.sessionConfig(for: session))
        let json = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(response)) as? [String: Any])
        #expect(Set(json.keys) == ["currentGameState", "operation", "nextHeartbeatIntervalMs", "sessionConfig"])
        #expect(json["operation"] as? String == "Active")
        #expect(json["nextHeartbeatIntervalMs"] as? Int == 1000)
        let config = try #require(json["sessionConfig"] as? [String: Any])
        #expect(Set(config.keys) == ["sessionId", "sessionCookie"], "only strings: every SDK version parses them")
        #expect(config["sessionId"] as? String == "3536d3e6-e85d-4f47-b898-9617d19dabcd")
        #expect(config["sessionCookie"] as? String == "map=dust2")

        let cluster = SessionInfo(
            state: .active, sessionId: "/serviceconfigs/x/sessiontemplates/y/session/z", allocatedAt: "t")
        let clusterConfig = try #require(GSDKHeartbeatTranslation.sessionConfig(for: cluster))
        #expect(clusterConfig.sessionId == nil, "the C# SDK parses sessionId as a GUID")
        #expect(clusterConfig.metadata == ["sessionId": "/serviceconfigs/x/sessiontemplates/y/session/z"])
        let noCookie = try #require(
            GSDKHeartbeatTranslation.sessionConfig(for: SessionInfo(state: .active, sessionId: AgentFixture.sessionId)))
        let noCookieJSON = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(noCookie)) as? [String: Any])
        #expect(Set(noCookieJSON.keys) == ["sessionId"])
        #expect(GSDKHeartbeatTranslation.sessionConfig(for: SessionInfo(state: .standingBy)) == nil)

        let plain = GSDKHeartbeatResponse(
            currentGameState: "Active", operation: .terminate, nextHeartbeatIntervalMs: 1000, sessionConfig: nil)
        let plainJSON = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(plain)) as? [String: Any])
        #expect(Set(plainJSON.keys) == ["currentGameState", "operation", "nextHeartbeatIntervalMs"], "no null members")
        #expect(plainJSON["operation"] as? String == "Terminate")
    }

    @Test("--gsdk-listen takes loopback addresses only")
    func listenAddress() throws {
        func listen(_ text: String) throws -> String {
            let (host, port) = try GSDKSettings.parseListen(text)
            return "\(host) \(port)"
        }
        #expect(try listen("127.0.0.1:56001") == "127.0.0.1 56001")
        #expect(try listen("127.0.0.2:0") == "127.0.0.2 0")
        #expect(try listen("localhost:56001") == "127.0.0.1 56001")
        #expect(try listen("[::1]:56001") == "::1 56001")
        for text in ["0.0.0.0:56001", "10.0.0.4:56001", "[::]:56001", "example.com:56001"] {
            let error = #expect(throws: InvalidInput.self) { try GSDKSettings.parseListen(text) }
            #expect(error?.code == .gsdkListenNotLoopback, "\(text)")
        }
        for text in ["127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", "[::1]56001", ":56001x"] {
            let error = #expect(throws: InvalidInput.self) { try GSDKSettings.parseListen(text) }
            #expect(error?.code == .invalidGSDKListen || error?.code == .gsdkListenNotLoopback, "\(text)")
        }
        #expect(GSDKSettings.endpoint(host: "::1", port: 5) == "[::1]:5")
    }

    @Test("the GSDK settings resolve from flags or the config file, and need --gsdk-listen")
    func configuration() throws {
        var options = try AgentOptions.parse(["--socket", "/run/x/agent.sock", "--gsdk-listen", "127.0.0.1:56001"])
        let configuration = try AgentConfiguration.resolve(options: options, file: AgentConfigFile(), environment: [:])
        #expect(
            configuration.gsdk
                == GSDKSettings(
                    host: "127.0.0.1", port: 56001, configFilePath: "/run/x/gsdkConfig.json",
                    logFolder: "/var/lib/sessionhost/gsdk-logs", createsLogFolder: true,
                    stateDirectory: "/var/lib/sessionhost"))

        // The default log folder follows the state directory; one that is given is used as is.
        options = try AgentOptions.parse(["--state-dir", "/srv/agent/", "--gsdk-listen", "127.0.0.1:0"])
        let moved = try AgentConfiguration.resolve(options: options, file: AgentConfigFile(), environment: [:]).gsdk
        #expect(moved?.logFolder == "/srv/agent/gsdk-logs")
        #expect(moved?.stateDirectory == "/srv/agent")
        options = try AgentOptions.parse(["--gsdk-listen", "127.0.0.1:0", "--gsdk-log-folder", "/var/log/game"])
        let given = try AgentConfiguration.resolve(
            options: options, file: AgentConfigFile(), environment: ["STATE_DIRECTORY": "/var/lib/other"]
        ).gsdk
        #expect(given?.logFolder == "/var/log/game")
        #expect(given?.createsLogFolder == false)
        #expect(given?.stateDirectory == "/var/lib/other")

        options = try AgentOptions.parse(["--gsdk-log-folder", "/var/log/game"])
        let error = #expect(throws: InvalidInput.self) {
            try AgentConfiguration.resolve(options: options, file: AgentConfigFile(), environment: [:])
        }
        #expect(error?.code == .missingGSDKListen)

        let file = try JSONDecoder().decode(AgentConfigFile.self, from: Data(#"{"gsdk-listen": "0.0.0.0:56001"}"#.utf8))
        let refused = #expect(throws: InvalidInput.self) {
            try AgentConfiguration.resolve(options: AgentOptions.parse([]), file: file, environment: [:])
        }
        #expect(refused?.code == .gsdkListenNotLoopback)
    }

    @Test("the GSDK config file has the members the SDKs read, ports as the host maps them")
    func configFile() throws {
        var configuration = AgentConfiguration(socketPath: "/tmp/a.sock", stateDirectory: "/tmp/s")
        configuration.hostName = "203.0.113.7"
        configuration.ports = [
            PortSpecification(name: "game", transport: .udp, internalPort: 7777, externalPort: 30000),
            PortSpecification(name: "query", transport: .tcp, internalPort: 27015, externalPort: 30001),
        ]
        let settings = GSDKSettings(host: "127.0.0.1", port: 56001, configFilePath: "/x", logFolder: "/var/log/game")
        let file = GSDKConfigFile(
            sessionHostId: "vm-1", identity: HostIdentity(configuration: configuration), endpoint: "127.0.0.1:56001",
            settings: settings)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(file.encoded())) as? [String: Any])
        #expect(json["heartbeatEndpoint"] as? String == "127.0.0.1:56001")
        #expect(json["sessionHostId"] as? String == "vm-1")
        #expect(json["logFolder"] as? String == "/var/log/game")
        #expect(json["sharedContentFolder"] as? String == "")
        #expect(json["gamePorts"] as? [String: String] == ["game": "7777", "query": "27015"])
        #expect(json["publicIpV4Address"] as? String == "203.0.113.7")
        #expect(json["fullyQualifiedDomainName"] as? String == "203.0.113.7")
        let info = try #require(json["gameServerConnectionInfo"] as? [String: Any])
        #expect(info["publicIpV4Adress"] as? String == "203.0.113.7")
        let ports = try #require(info["gamePortsConfiguration"] as? [[String: Any]])
        #expect(ports.count == 2)
        #expect(ports[0]["name"] as? String == "game")
        #expect(ports[0]["serverListeningPort"] as? Int == 7777)
        #expect(ports[0]["clientConnectionPort"] as? Int == 30000)

        configuration.hostName = "vm-1.example.net"
        let named = GSDKConfigFile(
            sessionHostId: "vm-1", identity: HostIdentity(configuration: configuration), endpoint: "127.0.0.1:56001",
            settings: settings)
        #expect(named.publicIpV4Address == "", "present but empty: some SDKs read it without checking")
        #expect(named.gameServerConnectionInfo.publicIpV4Adress == "")
        #expect(named.fullyQualifiedDomainName == "vm-1.example.net")
    }
}

@Suite("GSDK: the front end drives the one HostAgent")
struct GSDKFrontEndTests {
    static func frontEnd() throws -> (AgentFixture, GSDKFrontEnd) {
        let fixture = try AgentFixture()
        let frontEnd = GSDKFrontEnd(
            agent: fixture.agent, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        return (fixture, frontEnd)
    }

    @Test("StandingBy registers; an allocation is answered Active with the session; Active continues")
    func allocation() async throws {
        let (fixture, frontEnd) = try Self.frontEnd()
        let initializing = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .initializing))
        #expect(initializing.operation == .continue)
        #expect(await fixture.agent.state == .initializing)

        let standingBy = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        #expect(standingBy.operation == .continue)
        #expect(standingBy.sessionConfig == nil)
        #expect(await fixture.agent.state == .standingBy)

        _ = try await fixture.agent.allocate(
            AllocationRequest(sessionId: AgentFixture.sessionId, sessionCookie: "map=dust2"))
        let handedOver = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        #expect(handedOver.operation == .active)
        #expect(handedOver.sessionConfig?.sessionId == AgentFixture.sessionId)
        #expect(handedOver.sessionConfig?.sessionCookie == "map=dust2")

        let active = try await frontEnd.heartbeat(
            GSDKHeartbeatRequest(currentGameState: .active, currentPlayers: [Player(playerId: "p1")]))
        #expect(active.operation == .continue)
        #expect(active.nextHeartbeatIntervalMs == 1000)
        let session = fixture.agent.sessionInfo()
        #expect(session.state == .active)
        #expect(session.players == [Player(playerId: "p1")])
    }

    @Test("Terminating from the game ends the session; the next StandingBy takes new sessions")
    func gameEndsSession() async throws {
        let (fixture, frontEnd) = try Self.frontEnd()
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        _ = try await fixture.agent.allocate(AllocationRequest(sessionId: AgentFixture.sessionId))
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .active))
        let ending = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .terminating))
        #expect(ending.operation == .continue)
        #expect(ending.sessionConfig == nil)
        #expect(await fixture.agent.state == .terminating)
        #expect(await fixture.agent.unreportedEnd == AgentFixture.sessionId)
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        #expect(await fixture.agent.state == .standingBy)
    }

    @Test("a game server that restarts while its host holds its session releases it")
    func restartedGame() async throws {
        let (fixture, frontEnd) = try Self.frontEnd()
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        _ = try await fixture.agent.allocate(AllocationRequest(sessionId: AgentFixture.sessionId))
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .active))
        // The new process starts over: Initializing, then StandingBy.
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .initializing))
        #expect(await fixture.agent.state == .terminating)
        let ready = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        #expect(ready.operation == .continue)
        #expect(await fixture.agent.state == .standingBy)
    }

    @Test("a session ended elsewhere (socket API, gsmsd) tells the Active game server to terminate")
    func terminate() async throws {
        let (fixture, frontEnd) = try Self.frontEnd()
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        _ = try await fixture.agent.allocate(AllocationRequest(sessionId: AgentFixture.sessionId))
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .active))
        _ = try await fixture.agent.endSession()
        let told = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .active))
        #expect(told.operation == .terminate)
        #expect(await fixture.agent.state == .terminating)
    }

    @Test("a GSDK heartbeat is a sign of life: an Unhealthy host with a session comes back and hands it over")
    func recovers() async throws {
        let fixture = try AgentFixture(healthTimeout: .milliseconds(1))
        let frontEnd = GSDKFrontEnd(
            agent: fixture.agent, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        _ = try await fixture.agent.allocate(AllocationRequest(sessionId: AgentFixture.sessionId))
        try await Deadline.waitUntilAsync("the health timeout to pass") {
            await fixture.agent.expireHealthIfDue()
            return await fixture.agent.state == .unhealthy
        }
        let answer = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        #expect(answer.operation == .active)
        #expect(await fixture.agent.state == .active)
    }

    @Test("a game server that took its session and fell silent for the health timeout has ended it")
    func silence() async throws {
        let fixture = try AgentFixture(healthTimeout: .milliseconds(200))
        let frontEnd = GSDKFrontEnd(
            agent: fixture.agent, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        #expect(await frontEnd.silenceDeadline() == nil, "no session taken: nothing to end")
        _ = try await fixture.agent.allocate(AllocationRequest(sessionId: AgentFixture.sessionId))
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        #expect(await frontEnd.silenceDeadline() == nil, "offered, not yet taken")
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .active))
        let deadline = try #require(await frontEnd.silenceDeadline())
        try await Deadline.waitUntilAsync("the silence deadline") { ContinuousClock.now >= deadline }
        await frontEnd.endSessionIfSilent()
        #expect(await fixture.agent.state == .terminating)
        #expect(await fixture.agent.unreportedEnd == AgentFixture.sessionId)
        #expect(await frontEnd.silenceDeadline() == nil)
    }

    @Test("a game server that heartbeats within the health timeout keeps its session")
    func notSilent() async throws {
        let fixture = try AgentFixture(healthTimeout: .seconds(3600))
        let frontEnd = GSDKFrontEnd(
            agent: fixture.agent, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        _ = try await fixture.agent.allocate(AllocationRequest(sessionId: AgentFixture.sessionId))
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .active))
        await frontEnd.endSessionIfSilent()
        #expect(await fixture.agent.state == .active)
        #expect(await frontEnd.silenceDeadline() != nil)
    }

    @Test("gsdkinfo needs a flavour and a version")
    func info() async throws {
        let (_, frontEnd) = try Self.frontEnd()
        try await frontEnd.report(GSDKInfoReport(flavor: "C++", version: "2.0.0"))
        #expect(await frontEnd.sdk == GSDKInfoReport(flavor: "C++", version: "2.0.0"))
        await #expect(throws: AgentError.self) { try await frontEnd.report(GSDKInfoReport(flavor: "", version: "1")) }
    }
}

@Suite("GSDK: routes and errors")
struct GSDKAPITests {
    static func api() throws -> (AgentFixture, GSDKAPI) {
        let fixture = try AgentFixture(hostId: "vm-1")
        return (
            fixture,
            GSDKAPI(
                frontEnd: GSDKFrontEnd(
                    agent: fixture.agent, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        )
    }

    static func status(_ response: AgentResponse) -> (Int, [String: Any]) {
        guard case .json(let status, let body, _) = response else { return (0, [:]) }
        return (status, ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:])
    }

    @Test("PATCH /v1/sessionHosts/{id} and POST …/heartbeats are the heartbeat; gsdkinfo is accepted")
    func routes() async throws {
        let (fixture, api) = try Self.api()
        let (patch, answer) = Self.status(
            await api.handle(
                method: "PATCH", target: "/v1/sessionHosts/vm-1", body: Array(GSDKRequests.cpp("StandingBy").utf8)))
        #expect(patch == 200)
        #expect(answer["operation"] as? String == "Continue")
        #expect(await fixture.agent.state == .standingBy)
        let (post, _) = Self.status(
            await api.handle(
                method: "POST", target: "/v1/sessionHosts/vm-1/heartbeats",
                body: Array(GSDKRequests.go("StandingBy").utf8)))
        #expect(post == 200)
        let (info, _) = Self.status(
            await api.handle(
                method: "POST", target: "/v1/metrics/vm-1/gsdkinfo", body: Array(GSDKRequests.cppInfo.utf8)))
        #expect(info == 200)
    }

    @Test("wrong host id 404, wrong method 405, bad JSON 400 — and the host is untouched")
    func errors() async throws {
        let (fixture, api) = try Self.api()
        let (unknown, body) = Self.status(
            await api.handle(
                method: "PATCH", target: "/v1/sessionHosts/other", body: Array(GSDKRequests.cpp("StandingBy").utf8)))
        #expect(unknown == 404)
        #expect(body["code"] as? String == "UnknownSessionHost")
        #expect(Self.status(await api.handle(method: "GET", target: "/v1/sessionHosts/vm-1", body: [])).0 == 405)
        #expect(
            Self.status(await api.handle(method: "PATCH", target: "/v1/sessionHosts/vm-1/heartbeats", body: [])).0
                == 405)
        #expect(Self.status(await api.handle(method: "POST", target: "/v1/other", body: [])).0 == 404)
        let (bad, badBody) = Self.status(
            await api.handle(method: "PATCH", target: "/v1/sessionHosts/vm-1", body: Array("{not json".utf8)))
        #expect(bad == 400)
        #expect(badBody["code"] as? String == "MalformedRequest")
        #expect(Self.status(await api.handle(method: "PATCH", target: "/v1/sessionHosts/vm-1", body: [])).0 == 400)
        #expect(
            Self.status(await api.handle(method: "POST", target: "/v1/metrics/vm-1/gsdkinfo", body: Array("{}".utf8))).0
                == 400)
        #expect(await fixture.agent.state == .initializing)
    }
}
