import ArgumentParser
import SessionHostModel
import Foundation

/// `sessionhost-bench`: the benchmarks of docs/performance.md. Each subcommand prints one JSON
/// report on standard output (or to `--output`) and its progress on standard error.
public struct BenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sessionhost-bench",
        abstract: "Benchmarks of gsmsd allocations, the agent socket API and agent start-up, with JSON output.",
        discussion: """
            Build and measure the release binaries (one build makes every product):
              swift build -c release --static-swift-stdlib
              $(swift build -c release --static-swift-stdlib --show-bin-path)/sessionhost-bench all --output bench.json
            gsmsd and sessionhostd are taken from this executable's directory unless --bin-dir says \
            otherwise. See docs/performance.md.
            """,
        version: SessionHostVersion.release,
        subcommands: [Allocations.self, Agent.self, Startup.self, All.self])

    public init() {}
}

/// Flags every subcommand takes.
struct CommonOptions: ParsableArguments {
    @Option(
        name: .customLong("bin-dir"),
        help: ArgumentHelp("Directory holding gsmsd and sessionhostd (default: this executable's).", valueName: "DIR"))
    var binDir: String?

    @Option(
        name: .long, help: ArgumentHelp("Write the JSON report to FILE instead of standard output.", valueName: "FILE"))
    var output: String?

    @Flag(name: .long, help: "Print no progress on standard error.")
    var quiet = false

    func binaries() throws -> Binaries {
        // Progress goes to standard error: a reader that went away must not kill the run (and
        // leave its daemons behind). The daemons get default signal handling back.
        signal(SIGPIPE, SIG_IGN)
        return try Binaries(directory: binDir)
    }

    var log: @Sendable (String) -> Void {
        guard !quiet else { return { _ in } }
        let started = ContinuousClock.now
        return { message in
            let seconds = String(format: "%7.2f", (ContinuousClock.now - started).seconds)
            FileHandle.standardError.write(Data(("sessionhost-bench [\(seconds) s] " + message + "\n").utf8))
        }
    }

    func emit(_ report: some Encodable) throws {
        var data = try Report.encoder().encode(report)
        data.append(UInt8(ascii: "\n"))
        if let output {
            try data.write(to: URL(fileURLWithPath: output))
        } else {
            FileHandle.standardOutput.write(data)
        }
    }
}

struct AllocationsOptions: ParsableArguments {
    @Option(name: .long, help: "Simulated StandingBy hosts registered with gsmsd.")
    var hosts = 1000

    @Option(
        name: .customLong("real-agents"),
        help: "Real sessionhostd processes with --control-plane, for the hand-off to the game.")
    var realAgents = 2

    @Option(name: .long, help: "Concurrent title clients.")
    var clients = 8

    @Option(name: .long, help: "Allocations measured (after the warm-up).")
    var requests = 3000

    @Option(name: .long, help: "Allocations before the measurement, not counted.")
    var warmup = 200

    @Option(name: .long, help: "Hand-offs to the real agents measured with gsmsd otherwise idle.")
    var handoffs = 100

    @Option(name: .customLong("session-ms"), help: "How long a simulated host keeps a session before ending it.")
    var sessionMs = 0

    @Option(
        name: .customLong("host-timeout"), help: "gsmsd's --host-timeout in seconds; hosts heartbeat every third of it."
    )
    var hostTimeout = 15.0

    @Option(name: .customLong("gsmsd-log-level"), help: "gsmsd's --log-level (its log goes to a file).")
    var gsmsdLogLevel = "info"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A PostgreSQL server, postgres://USER@HOST:PORT/DATABASE: gsmsd runs on a new database there (dropped afterwards) instead of SQLite.",
            valueName: "URL"))
    var postgres: String?

    @Option(
        name: .long, help: "gsmsd instances sharing the PostgreSQL database (default 2 with --postgres, 1 without).")
    var instances: Int?

    func validate() throws {
        guard hosts >= 1, clients >= 1, requests >= 1, warmup >= 0, handoffs >= 0, realAgents >= 0, sessionMs >= 0
        else {
            throw ValidationError("--hosts, --clients and --requests must be at least 1; the other counts at least 0")
        }
        guard hostTimeout >= 0.3 else { throw ValidationError("--host-timeout must be at least 0.3 seconds") }
        if let instances, instances < 1 || (instances > 1 && postgres == nil) {
            throw ValidationError("--instances must be at least 1, and more than 1 only with --postgres")
        }
    }

    var scenario: AllocationsScenario.Options {
        var options = AllocationsScenario.Options()
        options.hosts = hosts
        options.realAgents = realAgents
        options.clients = clients
        options.requests = requests
        options.warmup = warmup
        options.handoffs = handoffs
        options.sessionMs = sessionMs
        options.hostTimeoutSeconds = hostTimeout
        options.gsmsdLogLevel = gsmsdLogLevel
        options.postgresURL = postgres
        options.instances = instances ?? (postgres == nil ? 1 : 2)
        return options
    }
}

struct AgentOptions: ParsableArguments {
    @Option(name: .long, help: "Concurrent keep-alive connections.")
    var concurrency = 8

    @Option(name: .customLong("agent-requests"), help: "Requests to each server per round.")
    var agentRequests = 20000

    @Option(name: .long, help: "Rounds, alternating which server goes first.")
    var rounds = 3

    @Option(name: .customLong("agent-warmup"), help: "Requests to each server before the measurement.")
    var agentWarmup = 2000

    @Option(name: .customLong("idle-seconds"), help: "Seconds over which the idle agent's CPU use is measured.")
    var idleSeconds = 10.0

    @Option(
        name: .long,
        help: "Session hosts the agent runs (sessionhostd --slots); the requests go to every slot's socket in turn.")
    var slots = 1

    func validate() throws {
        guard concurrency >= 1, agentRequests >= 1, rounds >= 1, agentWarmup >= 0, idleSeconds > 0 else {
            throw ValidationError(
                "--concurrency, --agent-requests and --rounds must be at least 1, --idle-seconds above 0")
        }
        guard (1...SlotSockets.maximumSlots).contains(slots) else {
            throw ValidationError("--slots must be 1 to \(SlotSockets.maximumSlots)")
        }
    }

    var scenario: AgentScenario.Options {
        var options = AgentScenario.Options()
        options.concurrency = concurrency
        options.requests = agentRequests
        options.rounds = rounds
        options.warmup = agentWarmup
        options.idleSeconds = idleSeconds
        options.slots = slots
        return options
    }
}

struct StartupOptions: ParsableArguments {
    @Option(name: .long, help: "Starts of sessionhostd.")
    var runs = 10

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    }

    var scenario: StartupScenario.Options {
        var options = StartupScenario.Options()
        options.runs = runs
        return options
    }
}

extension BenchCommand {
    struct Allocations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Allocation latency and rate through gsmsd, against a trivial request; hand-off latency to the game.")

        @OptionGroup var common: CommonOptions
        @OptionGroup var options: AllocationsOptions

        func run() async throws {
            try Limits.raiseOpenFiles()
            try common.emit(
                try await AllocationsScenario(options: options.scenario, binaries: common.binaries(), log: common.log)
                    .run())
        }
    }

    struct Agent: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "GET /v1/host over the agent socket against the floor (SessionHostHTTP's server with a fixed answer); the agent's memory and idle CPU."
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var options: AgentOptions

        func run() async throws {
            try common.emit(
                try await AgentScenario(options: options.scenario, binaries: common.binaries(), log: common.log).run())
        }
    }

    struct Startup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Time from exec to READY=1 of sessionhostd.")

        @OptionGroup var common: CommonOptions
        @OptionGroup var options: StartupOptions

        func run() async throws {
            try common.emit(
                try await StartupScenario(options: options.scenario, binaries: common.binaries(), log: common.log).run()
            )
        }
    }

    struct All: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "startup, agent and allocations, one after the other, in one JSON report.")

        @OptionGroup var common: CommonOptions
        @OptionGroup var startup: StartupOptions
        @OptionGroup var agent: AgentOptions
        @OptionGroup var allocations: AllocationsOptions

        func run() async throws {
            try Limits.raiseOpenFiles()
            let binaries = try common.binaries()
            let startupReport = try await StartupScenario(
                options: startup.scenario, binaries: binaries, log: common.log
            ).run()
            let agentReport = try await AgentScenario(options: agent.scenario, binaries: binaries, log: common.log)
                .run()
            let allocationsReport = try await AllocationsScenario(
                options: allocations.scenario, binaries: binaries, log: common.log
            ).run()
            try common.emit(AllReport(startup: startupReport, agent: agentReport, allocations: allocationsReport))
        }
    }
}
