import ArgumentParser
import Foundation
import SessionHostAgent
import SessionHostModel
import Testing

@Suite("sessionhostd configuration: flags over file over environment")
struct AgentConfigurationTests {
    func decodeFile(_ json: String) throws -> AgentConfigFile {
        try JSONDecoder().decode(AgentConfigFile.self, from: Data(json.utf8))
    }

    @Test("defaults come from systemd's directories")
    func defaults() throws {
        let options = try AgentOptions.parse([])
        let configuration = try AgentConfiguration.resolve(
            options: options, file: AgentConfigFile(),
            environment: [
                "RUNTIME_DIRECTORY": "/run/sessionhost:/run/other", "STATE_DIRECTORY": "/var/lib/sessionhost",
            ])
        #expect(configuration.socketPath == "/run/sessionhost/agent.sock")
        #expect(configuration.stateDirectory == "/var/lib/sessionhost")
        #expect(configuration.healthTimeout == .seconds(30))
        #expect(configuration.idleTimeout == .seconds(75))
        #expect(configuration.region == "local")
        #expect(configuration.hostId == nil)
        let bare = try AgentConfiguration.resolve(options: options, file: AgentConfigFile(), environment: [:])
        #expect(bare.socketPath == "/run/sessionhost/agent.sock")
        #expect(bare.stateDirectory == "/var/lib/sessionhost")
    }

    @Test("a flag wins over the file, and the file over the default")
    func precedence() throws {
        let file = try decodeFile(
            """
            {"region": "EastUS", "title-id": "1234ABCD", "port": ["game:udp:7777:30000"], "health-timeout": 5,
             "secure-context": "AQID", "game-mode-id": "mode", "idle-timeout": 20}
            """)
        let options = try AgentOptions.parse([
            "--region", "WestUS", "--port", "query:tcp:27015:40000", "--health-timeout", "0",
        ])
        let configuration = try AgentConfiguration.resolve(options: options, file: file, environment: [:])
        #expect(configuration.region == "WestUS")
        #expect(configuration.titleId == "1234ABCD")
        #expect(
            configuration.ports == [
                PortSpecification(name: "query", transport: .tcp, internalPort: 27015, externalPort: 40000)
            ])
        #expect(configuration.healthTimeout == nil, "0 turns the check off")
        #expect(configuration.secureContext == "AQID")
        #expect(configuration.gameModeId == "mode")
        #expect(configuration.idleTimeout == .seconds(20))
    }

    @Test("bad values are refused with a message that names them")
    func invalidValues() throws {
        let cases: [([String], InvalidInput.Code)] = [
            (["--port", "game:udp:7777"], .invalidPort),
            (["--port", "a:udp:1:2", "--port", "a:tcp:3:4"], .invalidPort),
            (["--secure-context", "not base64!"], .invalidSecureContext),
            (["--health-timeout=-1"], .invalidHealthTimeout),
            (["--idle-timeout", "0"], .invalidIdleTimeout),
            (["--idle-timeout", "nan"], .invalidIdleTimeout),
            (["--log-level", "loud"], .invalidLogLevel),
            (["--allow-user", "no-such-user-here"], .unknownUser),
            (["--allow-group", "no-such-group-here"], .unknownGroup),
            (["--host-id", "has space"], .invalidHostId),
        ]
        for (arguments, code) in cases {
            let options = try AgentOptions.parse(arguments)
            let error = #expect(throws: InvalidInput.self, "\(arguments)") {
                try AgentConfiguration.resolve(options: options, file: AgentConfigFile(), environment: [:])
            }
            #expect(error?.code == code, "\(arguments)")
        }
    }

    @Test("unknown keys in the config file are refused, so that typos do not pass silently")
    func unknownKey() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("agent.json")
        try #"{"regoin": "WestUS"}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: InvalidInput.self) { try AgentConfigFile.load(path: path) }
        #expect(error?.message.contains("regoin") == true)
        try #"{"region": 5}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let typeError = #expect(throws: InvalidInput.self) { try AgentConfigFile.load(path: path) }
        #expect(typeError?.message.contains("region") == true)
        #expect(throws: InvalidInput.self) { try AgentConfigFile.load(path: directory.file("missing.json")) }
    }

    @Test("users and groups resolve by name or number")
    func accounts() throws {
        let options = try AgentOptions.parse(["--allow-user", "root", "--allow-user", "1234", "--allow-group", "root"])
        let configuration = try AgentConfiguration.resolve(options: options, file: AgentConfigFile(), environment: [:])
        #expect(configuration.allowedUsers == [0, 1234])
        #expect(configuration.allowedGroups == [0])
    }
}
