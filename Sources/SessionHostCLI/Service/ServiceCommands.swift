import ArgumentParser
import SessionHostModel
import SessionHostTitleClient

/// `sessionhostctl get`: looks up an Active allocation (`GET /titles/{titleId}/sessionhosts/{sessionId}`).
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract:
            "Look up the host holding a session, as a title would (gsmsd: GET /titles/{titleId}/sessionhosts/{sessionId}).",
        discussion: """
            Prints where the game server is, or exits 1 when the title has no Active session with \
            that id (unknown, still being allocated, or ended).

            Example:
              sessionhostctl get --service http://127.0.0.1:8080 --title 1234 \\
                --key-file /etc/gsms/token.key \\
                --session-id 3536d3e6-e85d-4f47-b898-9617d19dabcd

            Exit codes: 0 found; 1 not found or refused by gsmsd; 3 gsmsd unreachable; 64 a usage error.
            """)

    @OptionGroup(title: "gsmsd") var service: ServiceConnectionOptions

    @Option(name: .customLong("session-id"), help: ArgumentHelp("The session's GUID.", valueName: "GUID"))
    var sessionId: String

    @Flag(name: .long, help: "Print gsmsd's JSON answer as it is.")
    var json = false

    @Flag(
        name: .long,
        help:
            "Print the players the game server last reported instead (gsmsd: GET …/{sessionId}/players, an extension).")
    var players = false

    func validate() throws {
        try service.validateForService()
    }

    func run() async throws {
        let client = try await service.client()
        try await ServiceOutput.run(title: service.title, serviceURL: service.serviceURL) {
            if players {
                let answer = try await client.playersAnswer(sessionId: sessionId)
                if json { return ServiceOutput.printBody(answer.body) }
                let names = answer.value.players.map(\.playerId)
                return print(
                    "\(names.count) player\(names.count == 1 ? "" : "s") on host \(answer.value.sessionHostId)"
                        + (names.isEmpty ? "" : ": " + names.joined(separator: ", ")))
            }
            guard let answer = try await client.sessionHostAnswer(sessionId: sessionId) else {
                throw TitleClientError(
                    status: 404, code: .sessionNotFound,
                    message: "title \(client.titleId) has no Active session \(sessionId)", correlationId: nil)
            }
            if json { return ServiceOutput.printBody(answer.body) }
            print(ServiceOutput.describe("active", answer.value))
        }
    }
}

/// `sessionhostctl cluster`: asks for a server for a multiplayer session, queued if need be
/// (`POST /titles/{titleId}/clusters`), and with `--wait` polls until it is fulfilled.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract:
            "Request a server for a multiplayer session, queued if need be (gsmsd: POST /titles/{titleId}/clusters).",
        discussion: """
            Without --wait, posts once and prints the state: Fulfilled (with the host), Queued \
            (with the place in the queue; run the same command again to poll) or Aborted. With \
            --wait, polls as gsmsd recommends until the request is Fulfilled or Aborted or the \
            time is up.

            Example:
              sessionhostctl cluster --service http://127.0.0.1:8080 --title 1234 \\
                --key-file /etc/gsms/token.key --wait 60 \\
                --session-id /serviceconfigs/SCID/sessiontemplates/quick/session/m42

            Exit codes: 0 Fulfilled, or Queued without --wait; 1 Aborted, still Queued when \
            --wait ran out, or refused by gsmsd; 3 gsmsd unreachable; 64 a usage error.
            """)

    @OptionGroup(title: "gsmsd") var service: ServiceConnectionOptions

    @Option(name: .customLong("session-id"), help: ArgumentHelp("The multiplayer session's path.", valueName: "PATH"))
    var sessionId: String

    @Flag(name: .customLong("abort-if-queued"), help: "Answer Aborted instead of queueing when no host is free now.")
    var abortIfQueued = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Poll until Fulfilled or Aborted, for up to this many seconds (0 to 3600).", valueName: "SECONDS"))
    var wait: Double?

    @Flag(name: .long, help: "Print gsmsd's JSON answer as it is (the last one, with --wait).")
    var json = false

    func validate() throws {
        try service.validateForService()
        if let wait, !(0...3600).contains(wait) { throw ValidationError("--wait must be 0 to 3600 seconds") }
    }

    func run() async throws {
        let client = try await service.client()
        try await ServiceOutput.run(title: service.title, serviceURL: service.serviceURL) {
            let answer: TitleClient.Answer<ClusterResponse>
            if let wait {
                answer = try await client.waitForClusterAnswer(
                    sessionId: sessionId, abortIfQueued: abortIfQueued, timeout: .milliseconds(Int64(wait * 1000)))
            } else {
                answer = try await client.clusterAnswer(sessionId: sessionId, abortIfQueued: abortIfQueued)
            }
            let response = answer.value
            if json {
                ServiceOutput.printBody(answer.body)
            } else {
                print(Self.describe(response, sessionId: sessionId))
            }
            switch response.fulfillmentState {
            case .fulfilled:
                return
            case .queued:
                guard let wait else { return }
                CommandOutput.printError(
                    "error: still Queued after \(wait) s [Queued, correlation id \(answer.correlationId)]")
                CommandOutput.printError(
                    "fix: run the same command again to keep polling; the request keeps its place while it is polled (gsmsd --queue-timeout)"
                )
                throw ExitCode(CommandOutput.refusedExitCode)
            case .aborted:
                CommandOutput.printError(
                    "error: no host of title \(client.titleId) is free now and --abort-if-queued was given [Aborted]")
                CommandOutput.printError("fix: leave out --abort-if-queued to wait in the queue, or try again later")
                throw ExitCode(CommandOutput.refusedExitCode)
            }
        }
    }

    static func describe(_ response: ClusterResponse, sessionId: String) -> String {
        switch response.fulfillmentState {
        case .fulfilled:
            return ServiceOutput.describe(
                "fulfilled", hostName: response.hostName ?? "?", region: response.region ?? "?",
                portMappings: response.portMappings ?? [], sessionId: response.sessionId ?? sessionId,
                sessionHostId: response.sessionHostId ?? "?")
        case .queued:
            let position = response.queuePosition.map { "at position \($0)" } ?? "still"
            return "queued \(position) session \(sessionId); poll again in \(response.pollIntervalMilliseconds) ms"
        case .aborted:
            return "aborted session \(sessionId): no host is free and --abort-if-queued was given"
        }
    }
}

/// `sessionhostctl allocate --service URL …`: allocates through gsmsd as a title would.
struct ServiceAllocation {
    var service: ServiceConnectionOptions
    var request: SessionHostAllocationRequest
    var json: Bool

    func run() async throws {
        let client = try await service.client()
        try await ServiceOutput.run(title: service.title, serviceURL: service.serviceURL) {
            let answer = try await client.allocateAnswer(request)
            if json { return ServiceOutput.printBody(answer.body) }
            print(ServiceOutput.describe("allocated", answer.value))
        }
    }
}
