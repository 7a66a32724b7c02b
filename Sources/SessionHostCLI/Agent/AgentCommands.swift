import ArgumentParser
import SessionHostModel
import SessionHostSDK

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host", abstract: "Show who the host is: id, title, region, ports, state (GET /v1/host).")

    @OptionGroup var agent: AgentConnectionOptions

    func run() async throws {
        try await CommandOutput.run {
            if agent.json { return try await CommandOutput.printRaw(agent.client, method: "GET", path: "/v1/host") }
            print(CommandOutput.describe(try await agent.client.host()))
        }
    }
}

struct SessionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session", abstract: "Show the host's state and session (GET /v1/session).")

    @OptionGroup var agent: AgentConnectionOptions

    @Option(
        name: .long, help: ArgumentHelp("Wait up to this many seconds for a session to arrive.", valueName: "SECONDS"))
    var wait: Double?

    func validate() throws {
        if let wait, !(0...3600).contains(wait) { throw ValidationError("--wait must be 0 to 3600 seconds") }
    }

    func run() async throws {
        try await CommandOutput.run {
            let path = wait.map { "/v1/session?wait=\($0)" } ?? "/v1/session"
            if agent.json { return try await CommandOutput.printRaw(agent.client, method: "GET", path: path) }
            let session = try await agent.client.session(wait: wait.map { .milliseconds(Int64($0 * 1000)) })
            print(CommandOutput.describe(session))
        }
    }
}

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Follow the host's state changes until interrupted (GET /v1/events).")

    @OptionGroup var agent: AgentConnectionOptions

    @Option(
        name: .long, help: ArgumentHelp("Stop after this many events (the first is the current state).", valueName: "N")
    )
    var count: Int?

    func run() async throws {
        try await CommandOutput.run {
            var seen = 0
            for try await event in agent.client.events() {
                if agent.json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    CommandOutput.printNow(String(decoding: try encoder.encode(event), as: UTF8.self))
                } else {
                    CommandOutput.printNow(CommandOutput.describe(event))
                }
                seen += 1
                if let count, seen >= count { return }
            }
        }
    }
}

struct ReadyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ready", abstract: "Tell the agent the game is ready for players (POST /v1/ready).")

    @OptionGroup var agent: AgentConnectionOptions

    func run() async throws {
        try await CommandOutput.run {
            if agent.json { return try await CommandOutput.printRaw(agent.client, method: "POST", path: "/v1/ready") }
            print(CommandOutput.describe(try await agent.client.ready()))
        }
    }
}

struct HeartbeatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heartbeat", abstract: "Send one heartbeat for the game (POST /v1/heartbeat).")

    @OptionGroup var agent: AgentConnectionOptions

    @Option(name: .long, help: "Healthy or Unhealthy.")
    var health: String?

    @Option(name: .customLong("player"), help: ArgumentHelp("A connected player's id. Repeatable.", valueName: "ID"))
    var players: [String] = []

    func run() async throws {
        var health: GameHealth?
        if let text = self.health {
            guard let value = GameHealth.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else {
                throw ValidationError("--health must be Healthy or Unhealthy")
            }
            health = value
        }
        let request = HeartbeatRequest(
            health: health, players: players.isEmpty ? nil : players.map(Player.init(playerId:)))
        try await CommandOutput.run {
            if agent.json {
                let body = Array(try JSONEncoder().encode(request))
                return try await CommandOutput.printRaw(agent.client, method: "POST", path: "/v1/heartbeat", body: body)
            }
            print(CommandOutput.describe(try await agent.client.heartbeat(request)))
        }
    }
}

struct EndCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "end", abstract: "End the host's session (POST /v1/session/end).")

    @OptionGroup var agent: AgentConnectionOptions

    func run() async throws {
        try await CommandOutput.run {
            if agent.json {
                return try await CommandOutput.printRaw(agent.client, method: "POST", path: "/v1/session/end")
            }
            print(CommandOutput.describe(try await agent.client.endSession()))
        }
    }
}

struct AllocateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allocate",
        abstract: "Allocate a session host: from gsmsd with --service, else locally on an agent (--socket).",
        discussion: """
            With --service (or any gsmsd option, the URL then coming from $SESSIONHOST_SERVICE), \
            asks gsmsd for a StandingBy host as a title would (POST /titles/{titleId}/sessionhosts), \
            retrying 408, 429, 500, 502, 503 and 504 with backoff, and prints where the game \
            server is. The session id must be a GUID; reuse it to retry safely.

            Otherwise (local mode) hands the agent at --socket a session, as the allocation \
            service would. That works only on an agent without a control plane, for root or the \
            agent's own user, and only while the host is StandingBy. --socket and --service \
            cannot be given together.

            The cookie is at most 4096 bytes of UTF-8.

            Examples:
              sessionhostctl allocate --service http://127.0.0.1:8080 --title 1234 \\
                --key-file /etc/gsms/token.key \\
                --session-id 3536d3e6-e85d-4f47-b898-9617d19dabcd \\
                --location "West US" --location "East US" --cookie "map=dust2"
              sessionhostctl allocate --socket /run/sessionhost/agent.sock \\
                --session-id 3536d3e6-e85d-4f47-b898-9617d19dabcd --cookie "map=dust2"

            Exit codes: 0 allocated; 1 refused (by gsmsd, including 503 after the retries, or by \
            the agent); 3 gsmsd or the agent unreachable; 64 a usage error.
            """)

    @OptionGroup var agent: AgentConnectionOptions

    @OptionGroup(title: "gsmsd (instead of --socket)") var service: ServiceConnectionOptions

    @Option(name: .customLong("session-id"), help: ArgumentHelp("The session's GUID.", valueName: "GUID"))
    var sessionId: String

    @Option(name: .long, help: ArgumentHelp("The session cookie: opaque text for the game server.", valueName: "TEXT"))
    var cookie: String?

    @Option(
        name: .customLong("cookie-file"),
        help: ArgumentHelp("Read the session cookie from this file (UTF-8).", valueName: "FILE"))
    var cookieFile: String?

    @Option(
        name: .customLong("location"),
        help: ArgumentHelp("gsmsd: a preferred location, tried in order. Repeatable.", valueName: "L"))
    var locations: [String] = []

    @Option(
        name: .customLong("sandbox-id"), help: ArgumentHelp("gsmsd: the sandbox the host must serve.", valueName: "ID"))
    var sandboxId: String?

    @Option(
        name: .customLong("cloud-game-id"),
        help: ArgumentHelp("gsmsd: the cloud game the host must serve.", valueName: "ID"))
    var cloudGameId: String?

    @Option(
        name: .customLong("game-mode-id"),
        help: ArgumentHelp("gsmsd: the game mode the host must serve.", valueName: "ID"))
    var gameModeId: String?

    /// Whether this call goes to gsmsd: `--service` or any option only gsmsd understands.
    var usesService: Bool {
        service.anyGiven || !locations.isEmpty || sandboxId != nil || cloudGameId != nil || gameModeId != nil
    }

    func validate() throws {
        if cookie != nil, cookieFile != nil {
            throw ValidationError("give either --cookie or --cookie-file, not both")
        }
        if usesService {
            if agent.socket != nil {
                throw ValidationError(
                    "give either --socket (local mode: hand a session to an agent) or --service and the gsmsd options (allocate through gsmsd), not both"
                )
            }
            try service.validateForService()
        }
    }

    func run() async throws {
        var cookie = self.cookie
        if let cookieFile {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: cookieFile))
            } catch {
                throw ValidationError(
                    "cannot read --cookie-file \(cookieFile): \(FileErrorDescription.describe(error, path: cookieFile))"
                )
            }
            guard let text = String(validating: data, as: UTF8.self) else {
                throw ValidationError("--cookie-file \(cookieFile) is not valid UTF-8")
            }
            cookie = text
        }
        let allocation = cookie
        if usesService {
            let request = SessionHostAllocationRequest(
                sessionId: sessionId, sandboxId: sandboxId, cloudGameId: cloudGameId, gameModeId: gameModeId,
                locations: locations.isEmpty ? nil : locations, sessionCookie: allocation)
            return try await ServiceAllocation(service: service, request: request, json: agent.json).run()
        }
        try await CommandOutput.run {
            if agent.json {
                var object: [String: String] = ["sessionId": sessionId]
                object["sessionCookie"] = allocation
                let body = Array(try JSONEncoder().encode(object))
                return try await CommandOutput.printRaw(
                    agent.client, method: "POST", path: "/v1/local/allocate", body: body)
            }
            print(
                CommandOutput.describe(
                    try await agent.client.allocateLocally(sessionId: sessionId, sessionCookie: allocation)))
        }
    }
}
