import ArgumentParser
import SessionHostModel
import SessionHostTitleClient

/// `sessionhostctl fleet`: the operator's view of gsmsd (its operator API).
struct FleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "List, drain and shut down across the fleet (gsmsd's operator API, /operator/v1).",
        discussion: """
            Every subcommand needs gsmsd's URL (--service or $SESSIONHOST_SERVICE) and the operator \
            secret gsmsd was started with (--operator-token-file or $SESSIONHOST_OPERATOR_TOKEN_FILE).

            Examples:
              export SESSIONHOST_SERVICE=http://127.0.0.1:8080
              export SESSIONHOST_OPERATOR_TOKEN_FILE=/etc/gsms/operator.token
              sessionhostctl fleet hosts --title 1234 --region westus --state StandingBy
              sessionhostctl fleet sessions --player alice
              sessionhostctl fleet drain --vm vm-0042 --deadline 1800 --reason "kernel upgrade"
              sessionhostctl fleet shutdown --title 1234 --session-id 3536d3e6-e85d-4f47-b898-9617d19dabcd
              sessionhostctl fleet buffers --json

            Exit codes: 0 success; 1 refused by gsmsd; 3 gsmsd unreachable; 64 a usage error.
            """,
        subcommands: [
            FleetHostsCommand.self, FleetSessionsCommand.self, FleetSessionCommand.self, FleetShutdownCommand.self,
            FleetDrainCommand.self, FleetBuffersCommand.self,
        ])
}

/// Filters and paging shared by the listings.
struct FleetListOptions: ParsableArguments {
    @Option(name: .customLong("title"), help: ArgumentHelp("Only this title.", valueName: "ID"))
    var title: String?

    @Option(name: .long, help: ArgumentHelp("Only this region (any case).", valueName: "REGION"))
    var region: String?

    @Option(name: .customLong("vm"), help: ArgumentHelp("Only this VM.", valueName: "VM_ID"))
    var vm: String?

    @Option(name: .long, help: ArgumentHelp("Rows per page, 1 to 1000 (default 100).", valueName: "N"))
    var limit: Int?

    @Option(
        name: .long, help: ArgumentHelp("Start after this page token (a previous page's next).", valueName: "TOKEN"))
    var after: String?

    @Flag(name: .customLong("all"), help: "Follow the pages to the end (with --json: one body per line).")
    var all = false

    /// Fetches the page after `--after` or, with `--all`, every page from there, and prints them:
    /// a table, or with `json` gsmsd's bodies, one per line. Without `--all`, a following page
    /// is named on stderr.
    func printPages<Page: Sendable>(
        json: Bool, header: [String], fetch: (_ after: String?) async throws -> GSMSAnswer<Page>,
        rows: (Page) -> [[String]], next: (Page) -> String?
    ) async throws {
        var after = self.after
        var table: [[String]] = []
        repeat {
            let answer = try await fetch(after)
            if json { ServiceOutput.printBody(answer.body) } else { table += rows(answer.value) }
            after = next(answer.value)
            if !all, let after { CommandOutput.printError("more: --after \(after)") }
        } while all && after != nil
        if !json { print(FleetTable.render(header: header, table)) }
    }

    var query: [(String, String)] {
        var query: [(String, String)] = []
        if let title { query.append(("titleId", title)) }
        if let region { query.append(("region", region)) }
        if let vm { query.append(("vmId", vm)) }
        if let limit { query.append(("limit", String(limit))) }
        return query
    }
}

/// `sessionhostctl fleet hosts`.
struct FleetHostsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosts", abstract: "List session hosts (GET /operator/v1/hosts).")

    @OptionGroup(title: "gsmsd") var service: OperatorConnectionOptions
    @OptionGroup(title: "Filters") var list: FleetListOptions

    @Option(name: .long, help: ArgumentHelp("Only hosts in this state (gsmsd's view).", valueName: "STATE"))
    var state: String?

    @Flag(
        name: .long, inversion: .prefixedNo,
        help: "Only draining hosts (--draining) or only the others (--no-draining).")
    var draining: Bool?

    func validate() throws { try service.validateForService() }

    func run() async throws {
        let client = try service.client()
        var query = list.query
        if let state { query.append(("state", state)) }
        if let draining { query.append(("draining", draining ? "true" : "false")) }
        try await service.run {
            try await list.printPages(
                json: service.json, header: ["HOST", "TITLE", "REGION", "VM", "STATE", "SESSION", "DRAIN"],
                fetch: { after in try await client.hostsAnswer(query + (after.map { [("after", $0)] } ?? [])) },
                rows: { $0.hosts.map(Self.row) }, next: \.next)
        }
    }

    static func row(_ host: OperatorHost) -> [String] {
        let drain = host.drained ? "drained" : host.drain.map { "until \($0.deadline)" } ?? "-"
        return [
            host.sessionHostId, host.titleId, host.region, host.vmId, host.state.rawValue, host.sessionId ?? "-", drain,
        ]
    }
}

/// `sessionhostctl fleet sessions`.
struct FleetSessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions", abstract: "List sessions with their players (GET /operator/v1/sessions).")

    @OptionGroup(title: "gsmsd") var service: OperatorConnectionOptions
    @OptionGroup(title: "Filters") var list: FleetListOptions

    @Option(name: .customLong("player"), help: ArgumentHelp("Only the session this player is in.", valueName: "ID"))
    var player: String?

    func validate() throws { try service.validateForService() }

    func run() async throws {
        let client = try service.client()
        var query = list.query
        if let player { query.append(("playerId", player)) }
        try await service.run {
            try await list.printPages(
                json: service.json, header: ["TITLE", "SESSION", "STATE", "HOST", "VM", "REGION", "PLAYERS"],
                fetch: { after in try await client.sessionsAnswer(query + (after.map { [("after", $0)] } ?? [])) },
                rows: { $0.sessions.map(Self.row) }, next: \.next)
        }
    }

    static func row(_ session: OperatorSession) -> [String] {
        [
            session.titleId, session.sessionId, session.state, session.sessionHostId, session.vmId, session.region,
            session.players.map { $0.isEmpty ? "0" : $0.map(\.playerId).joined(separator: ",") } ?? "-",
        ]
    }
}

/// The title and session a command names.
struct FleetSessionOptions: ParsableArguments {
    @Option(name: .customLong("title"), help: ArgumentHelp("The session's title.", valueName: "ID"))
    var title: String

    @Option(name: .customLong("session-id"), help: ArgumentHelp("The session's id.", valueName: "ID"))
    var sessionId: String
}

/// `sessionhostctl fleet session`.
struct FleetSessionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session",
        abstract: "Show one session, its host and its players (GET /operator/v1/titles/{titleId}/sessions/{sessionId})."
    )

    @OptionGroup(title: "gsmsd") var service: OperatorConnectionOptions
    @OptionGroup var session: FleetSessionOptions

    func validate() throws { try service.validateForService() }

    func run() async throws {
        let client = try service.client()
        try await service.run {
            let answer = try await client.sessionAnswer(titleId: session.title, sessionId: session.sessionId)
            if service.json { return ServiceOutput.printBody(answer.body) }
            let value = answer.value
            print(
                CommandOutput.table([
                    ("Session", value.sessionId), ("Title", value.titleId), ("State", value.state),
                    ("Session host", value.sessionHostId), ("VM", value.vmId), ("Region", value.region),
                    ("Host name", value.hostName), ("Allocated at", value.allocatedAt),
                    ("Players", value.players.map { $0.map(\.playerId).joined(separator: ", ") } ?? "(none reported)"),
                ]))
        }
    }
}

/// `sessionhostctl fleet shutdown`.
struct FleetShutdownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shutdown",
        abstract: "Shut a session down (DELETE /operator/v1/titles/{titleId}/sessions/{sessionId}).",
        discussion: """
            The session leaves the inventory at once and its host is Terminating; the game is told \
            at its agent's next heartbeat (a few seconds) and the host takes sessions again once \
            the game is ready.
            """)

    @OptionGroup(title: "gsmsd") var service: OperatorConnectionOptions
    @OptionGroup var session: FleetSessionOptions

    func validate() throws { try service.validateForService() }

    func run() async throws {
        let client = try service.client()
        try await service.run {
            let answer = try await client.shutDownAnswer(titleId: session.title, sessionId: session.sessionId)
            if service.json { return ServiceOutput.printBody(answer.body) }
            print("shut down session \(answer.value.sessionId) on host \(answer.value.sessionHostId)")
        }
    }
}

/// `sessionhostctl fleet drain`.
struct FleetDrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Drain a VM, a title's region or a title (POST /operator/v1/drains).",
        discussion: """
            Draining hosts take no new session; running sessions should end before the deadline, \
            when their agent ends what is left. Each agent reports Drained once every slot of its \
            VM is idle (see: sessionhostctl fleet hosts --draining). Hosts that register under the \
            same scope before the deadline are drained too. A drain is not undone: remove the VM.
            """)

    @OptionGroup(title: "gsmsd") var service: OperatorConnectionOptions

    @Option(name: .customLong("title"), help: ArgumentHelp("Drain this title's hosts.", valueName: "ID"))
    var title: String?

    @Option(name: .long, help: ArgumentHelp("With --title: only this region.", valueName: "REGION"))
    var region: String?

    @Option(name: .customLong("vm"), help: ArgumentHelp("Drain this VM's hosts.", valueName: "VM_ID"))
    var vm: String?

    @Option(
        name: .long, help: ArgumentHelp("Seconds until the deadline, 1 to 604800 (default 3600).", valueName: "SECONDS")
    )
    var deadline: Int?

    @Option(name: .long, help: ArgumentHelp("Why, for the games and the logs.", valueName: "TEXT"))
    var reason: String?

    func validate() throws {
        try service.validateForService()
        guard title != nil || vm != nil else {
            throw ValidationError("name what to drain: --title ID [--region R] or --vm VM_ID")
        }
        if region != nil, title == nil, vm == nil { throw ValidationError("--region needs --title") }
    }

    func run() async throws {
        let client = try service.client()
        try await service.run {
            let answer = try await client.drainAnswer(
                DrainRequest(titleId: title, region: region, vmId: vm, deadlineSeconds: deadline, reason: reason))
            if service.json { return ServiceOutput.printBody(answer.body) }
            print(
                "draining \(answer.value.hosts) host\(answer.value.hosts == 1 ? "" : "s") until \(answer.value.drain.deadline)"
            )
        }
    }
}

/// `sessionhostctl fleet buffers`.
struct FleetBuffersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "buffers",
        abstract: "Show the standby buffers: hosts per state and the VMs wanted (GET /operator/v1/buffers).")

    @OptionGroup(title: "gsmsd") var service: OperatorConnectionOptions

    func validate() throws { try service.validateForService() }

    func run() async throws {
        let client = try service.client()
        try await service.run {
            let answer = try await client.buffersAnswer()
            if service.json { return ServiceOutput.printBody(answer.body) }
            let rows = answer.value.buffers.map { buffer in
                [
                    buffer.titleId, buffer.region, String(buffer.standingBy), String(buffer.busy),
                    String(buffer.draining), String(buffer.vms), String(buffer.drainingVMs), String(buffer.slotsPerVM),
                    String(buffer.wantedVMs),
                ]
            }
            print(
                FleetTable.render(
                    header: [
                        "TITLE", "REGION", "STANDBY", "BUSY", "DRAINING", "VMS", "DRAINING_VMS", "SLOTS", "WANTED",
                    ],
                    rows))
        }
    }
}

/// Columns aligned with two spaces, as `ps` and `kubectl get` print them.
enum FleetTable {
    static func render(header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
            }.joined()
        }.joined(separator: "\n")
    }
}
