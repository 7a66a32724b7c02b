#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import NIOPosix
import SessionHostModel
import TitleTokens

/// `allocations`: gsmsd on SQLite with H StandingBy hosts (simulated agents plus a few real
/// sessionhostd), C title clients calling `POST /titles/{titleId}/sessionhosts`, a trivial
/// request to the same gsmsd from the same clients as the floor, and allocations onto the real
/// agents to time the hand-off to the game.
///
/// With `postgresURL`, N gsmsd instances (`instances`) share a new database on that server: the
/// agents (simulated and real) are all on the first instance, the title clients take turns over
/// the instances, so allocations made on the others reach their hosts' agents through
/// PostgreSQL's NOTIFY; the hand-off probe goes through the last instance.
public struct AllocationsScenario: Sendable {
    public struct Options: Sendable {
        public var hosts = 1000
        public var realAgents = 2
        public var clients = 8
        public var requests = 3000
        public var warmup = 200
        public var handoffs = 100
        public var sessionMs = 0
        public var hostTimeoutSeconds = 15.0
        public var gsmsdLogLevel = "info"
        /// A PostgreSQL server (`postgres://USER@HOST:PORT/DATABASE`) for a scratch database; nil: SQLite.
        public var postgresURL: String?
        /// gsmsd instances (more than one needs `postgresURL`).
        public var instances = 1

        public init() {}
    }

    static let simulatedRegion = "BenchSim"
    /// The floor: an unknown path, answered 404 by gsmsd's router and error middleware without
    /// touching the store.
    static let floorPath = "/bench/floor"
    /// How long the idle hand-off probe lets the agents settle between two hand-offs.
    static let idleSettle = Duration.milliseconds(50)

    let options: Options
    let binaries: Binaries
    let log: @Sendable (String) -> Void

    public func run() async throws -> AllocationsReport {
        let context = RunContext.current(binDirectory: binaries.directory)
        let workspace = try Workspace()
        defer { workspace.remove() }
        let scratch: ScratchDatabase?
        if let postgresURL = options.postgresURL {
            scratch = try await ScratchDatabase.create(serverURL: postgresURL)
            log("allocations: PostgreSQL database \(scratch?.name ?? "")")
        } else {
            scratch = nil
        }
        var gsmsds: [GSMSDaemon] = []
        do {
            for instance in 1...max(1, options.instances) {
                log("allocations: starting gsmsd \(instance) of \(options.instances) (\(workspace.path))")
                gsmsds.append(
                    try await GSMSDaemon.start(
                        binaries: binaries, workspace: workspace, hostTimeoutSeconds: options.hostTimeoutSeconds,
                        logLevel: options.gsmsdLogLevel, database: scratch?.url, instance: instance))
            }
        } catch {
            for gsmsd in gsmsds { await gsmsd.daemon.stop() }
            try? await scratch?.drop()
            throw error
        }
        let gsmsd = gsmsds[0]
        let group = MultiThreadedEventLoopGroup.singleton
        let fleet = SimulatedFleet(
            hosts: options.hosts, region: Self.simulatedRegion, gsmsd: gsmsd,
            sessionLength: .milliseconds(options.sessionMs), group: group)
        let titles = gsmsds.map {
            ServiceHTTP.make(baseURL: $0.baseURL, connections: options.clients + 2, group: group)
        }
        var realAgents: RealAgents?
        do {
            let report = try await measure(
                gsmsds: gsmsds, fleet: fleet, titles: titles, workspace: workspace, context: context
            ) {
                realAgents = $0
            }
            log("allocations: stopping the real agents")
            await realAgents?.stop()
            log("allocations: closing the connections")
            for title in titles { await title.shutdown() }
            await fleet.shutdown()
            log("allocations: stopping gsmsd")
            for gsmsd in gsmsds { await gsmsd.daemon.stop() }
            try await scratch?.drop()
            log("allocations: done")
            return report
        } catch {
            await realAgents?.stop()
            for title in titles { await title.shutdown() }
            await fleet.shutdown()
            for gsmsd in gsmsds {
                log("allocations: failed; gsmsd's log ends:\n\(gsmsd.daemon.process.logTail())")
                await gsmsd.daemon.stop()
            }
            try? await scratch?.drop()
            throw error
        }
    }

    private func measure(
        gsmsds: [GSMSDaemon], fleet: SimulatedFleet, titles: [ServiceHTTP], workspace: Workspace, context: RunContext,
        onAgentsStarted: (RealAgents) -> Void
    ) async throws -> AllocationsReport {
        let gsmsd = gsmsds[0]
        log("allocations: registering \(options.hosts) simulated hosts")
        let (registration, heartbeatInterval) = try await fleet.register(concurrency: 32)
        log(
            "allocations: \(registration.hosts) hosts in \(registration.seconds) s; starting \(options.realAgents) sessionhostd"
        )
        let agents = try await RealAgents.start(
            count: options.realAgents, binaries: binaries, workspace: workspace, gsmsd: gsmsd)
        onAgentsStarted(agents)

        let token = try await TitleTokenAuthority(key: TitleTokenKey(bytes: gsmsd.tokenKey))
            .mint(titles: [GSMSDaemon.titleId], subject: "sessionhost-bench", ttl: .seconds(3600), now: Date())
        let load = TitleLoad(instances: titles, authorization: "XBL3.0 x=-;" + token)
        let board = HandoffBoard()
        let gameErrors = Counter()

        let fleetTask = Task { await fleet.run(heartbeatInterval: heartbeatInterval) }
        let gamesTask = Task { await agents.play(board: board, errors: gameErrors) }
        defer {
            fleetTask.cancel()
            gamesTask.cancel()
        }

        if options.warmup > 0 {
            log("allocations: warm-up, \(options.warmup) allocations")
            let warmup = await load.allocations(total: options.warmup, clients: options.clients, floor: false)
            if warmup.errors.total > 0 { log("allocations: warm-up errors: \(warmup.errors.sorted)") }
        }

        log(
            "allocations: \(options.requests) allocations from \(options.clients) clients, with the floor request in between"
        )
        let gsmsdBefore = gsmsds.reduce(0) { $0 + (ProcFS.cpuNanoseconds(pid: $1.daemon.pid) ?? 0) }
        let selfBefore = ProcFS.cpuNanoseconds(pid: getpid()) ?? 0
        let postgresBefore = ProcFS.cpuNanoseconds(command: "postgres")
        let loadDone = DoneFlag()
        async let probeUnderLoad = load.handoffs(count: nil, board: board, until: loadDone, agents: options.realAgents)
        let started = ContinuousClock.now
        let measured = await load.allocations(total: options.requests, clients: options.clients, floor: true)
        let loadSeconds = (ContinuousClock.now - started).seconds
        loadDone.set()
        let underLoad = await probeUnderLoad
        let gsmsdCPU =
            Double(gsmsds.reduce(0) { $0 + (ProcFS.cpuNanoseconds(pid: $1.daemon.pid) ?? 0) } - gsmsdBefore) / 1e9
        let selfCPU = Double((ProcFS.cpuNanoseconds(pid: getpid()) ?? 0) - selfBefore) / 1e9
        let postgresCPU = Double(ProcFS.cpuNanoseconds(command: "postgres") - postgresBefore) / 1e9
        let gsmsdRSS = Double(gsmsds.map { ProcFS.statusKiB(pid: $0.daemon.pid, "VmRSS") ?? 0 }.max() ?? 0) / 1024

        // Idle: the simulated fleet stops, so gsmsd serves only the hand-offs and the real agents.
        log(
            "allocations: stopping the simulated agents; \(options.handoffs) hand-offs to the real agents with gsmsd otherwise idle"
        )
        fleetTask.cancel()
        await fleetTask.value
        let idle = await load.handoffs(
            count: options.handoffs, board: board, until: nil, agents: options.realAgents,
            settle: AllocationsScenario.idleSettle)

        log("allocations: stopping the games")
        gamesTask.cancel()
        await board.close()
        await gamesTask.value
        let realRSS = agents.daemons.map { Report.rounded(Double(ProcFS.statusKiB(pid: $0.pid, "VmRSS") ?? 0) / 1024) }

        let allocations = measured.allocations.summary
        let floor = measured.floor.summary
        let rate = Double(measured.allocations.count) / loadSeconds
        func ratio(_ a: Double, _ b: Double) -> Double { b > 0 ? Report.rounded(a / b) : 0 }
        let everyAllocationOK = measured.errors.total == 0
        var targets = [
            TargetCheck(
                "allocation p99", target: "≤ 10 ms with 1,000 StandingBy hosts",
                measured: "\(allocations.p99Ms) ms with \(options.hosts) hosts, \(options.clients) clients",
                met: allocations.p99Ms <= 10 && options.hosts >= 1000),
            TargetCheck(
                "allocations per second", target: "≥ 1,000/s with 1,000 StandingBy hosts",
                measured: "\(Report.rounded(rate))/s", met: rate >= 1000 && options.hosts >= 1000),
            TargetCheck(
                "every allocation durable", target: "each 200 follows a committed, fsynced acknowledgement",
                measured: everyAllocationOK
                    ? "\(measured.allocations.count) of \(options.requests) answered 200; "
                        + (options.postgresURL == nil
                            ? "SQLite WAL with synchronous=FULL" : "PostgreSQL, committed before answering")
                    : "\(measured.errors.total) of \(options.requests) not answered 200",
                met: everyAllocationOK),
        ]
        let handoffP50 = idle.toGame.p50Ms
        targets.append(
            TargetCheck(
                "hand-off to the game p50", target: "≤ 2 ms",
                measured: "\(handoffP50) ms idle, \(underLoad.toGame.p50Ms) ms under load",
                met: idle.toGame.count > 0 && handoffP50 <= 2))
        targets.append(
            TargetCheck(
                "gsmsd resident memory", target: "≤ 100 MiB with 10,000 StandingBy hosts",
                measured: "\(Report.rounded(gsmsdRSS)) MiB with \(options.hosts) hosts",
                met: gsmsdRSS <= 100 && options.hosts >= 10000))
        if options.postgresURL != nil {
            targets.append(
                TargetCheck(
                    "PostgreSQL allocations per second", target: "≥ 300/s with 2 instances",
                    measured: "\(Report.rounded(rate))/s with \(gsmsds.count) instances",
                    met: rate >= 300 && gsmsds.count >= 2))
        }

        return AllocationsReport(
            context: context, hosts: options.hosts, realAgents: options.realAgents, clients: options.clients,
            requests: options.requests, warmupRequests: options.warmup, sessionMs: options.sessionMs,
            hostTimeoutSeconds: options.hostTimeoutSeconds, gsmsdLogLevel: options.gsmsdLogLevel,
            registration: registration,
            allocation: EndpointResult(
                request: "POST /titles/\(GSMSDaemon.titleId)/sessionhosts", latency: allocations,
                requestsPerSecond: Report.rounded(rate), errors: measured.errors.total),
            allocationsPerSecond: Report.rounded(rate), loadSeconds: Report.rounded(loadSeconds),
            errors: measured.errors.sorted,
            floor: EndpointResult(
                request: "GET \(Self.floorPath) (404, no store access)", latency: floor,
                requestsPerSecond: Report.rounded(Double(measured.floor.count) / loadSeconds),
                errors: measured.floorErrors),
            ratioP50: ratio(allocations.p50Ms, floor.p50Ms), ratioP99: ratio(allocations.p99Ms, floor.p99Ms),
            handoffUnderLoad: underLoad, handoffIdle: idle,
            simulatedAgents: fleet.result,
            gsmsd: ServiceUsage(
                cpuSecondsDuringLoad: Report.rounded(gsmsdCPU),
                cpuMicrosecondsPerAllocation: measured.allocations.count > 0
                    ? Report.rounded(gsmsdCPU * 1e6 / Double(measured.allocations.count)) : 0,
                benchmarkCpuSecondsDuringLoad: Report.rounded(selfCPU), vmRssMibAfterLoad: Report.rounded(gsmsdRSS)),
            realAgentRssMib: realRSS,
            durability: options.postgresURL == nil
                ? "gsmsd's SQLite store as shipped: WAL, synchronous=FULL, group commit (each call in a savepoint, answered after its commit); a title's 200 is sent only after the agent's acknowledgement is committed"
                : "gsmsd's PostgreSQL store: each call one transaction, answered after its COMMIT (durable as the server's fsync and synchronous_commit settings make it); a title's 200 is sent only after the agent's acknowledgement is committed",
            targets: targets,
            database: options.postgresURL == nil ? "sqlite" : "postgres",
            gsmsdInstances: gsmsds.count,
            postgresCpuSecondsDuringLoad: options.postgresURL == nil ? nil : Report.rounded(postgresCPU))
    }
}

/// The title side: allocations, the floor request and the hand-off probe. Client `c` talks to
/// instance `c` modulo their number; the probe to the last one.
struct TitleLoad: Sendable {
    let instances: [ServiceHTTP]
    let authorization: String

    struct Measured: Sendable {
        var allocations = Latencies()
        var floor = Latencies()
        var errors = ErrorTally()
        var floorErrors = 0

        mutating func merge(_ other: Measured) {
            allocations.merge(other.allocations)
            floor.merge(other.floor)
            errors.merge(other.errors)
            floorErrors += other.floorErrors
        }
    }

    private func allocationBody(sessionId: String, region: String) -> [UInt8] {
        Array(#"{"sessionId":"\#(sessionId)","locations":["\#(region)"]}"#.utf8)
    }

    /// `total` allocations from `clients` concurrent clients; each client sends the floor
    /// request after each of its allocations when `floor` is set.
    func allocations(total: Int, clients: Int, floor: Bool) async -> Measured {
        let ticket = Ticket()
        return await withTaskGroup(of: Measured.self) { group in
            for clientIndex in 0..<max(1, clients) {
                let http = instances[clientIndex % instances.count]
                group.addTask {
                    var measured = Measured()
                    while ticket.take() < total {
                        let body = allocationBody(
                            sessionId: UUID().uuidString.lowercased(), region: AllocationsScenario.simulatedRegion)
                        let started = ContinuousClock.now
                        do {
                            let answer = try await http.send(
                                .POST, "/titles/\(GSMSDaemon.titleId)/sessionhosts",
                                headers: [("Authorization", authorization)],
                                body: body)
                            if answer.status == 200 {
                                measured.allocations.record(ContinuousClock.now - started)
                            } else {
                                measured.errors.add(status: answer.status, code: answer.errorCode)
                            }
                        } catch {
                            measured.errors.add(status: 0, code: "\(error)")
                        }
                        guard floor else { continue }
                        let floorStarted = ContinuousClock.now
                        do {
                            let answer = try await http.send(.GET, AllocationsScenario.floorPath)
                            if answer.status == 404 {
                                measured.floor.record(ContinuousClock.now - floorStarted)
                            } else {
                                measured.floorErrors += 1
                            }
                        } catch {
                            measured.floorErrors += 1
                        }
                    }
                    return measured
                }
            }
            var all = Measured()
            for await measured in group { all.merge(measured) }
            return all
        }
    }

    /// Allocations onto the real agents, one at a time: `count` of them, or until `until` is set.
    /// With `settle`, each allocation starts that long after the previous one reached its game
    /// (or was refused), so that the agents' traffic between sessions (the end, the sync, the new
    /// poll) is over and the hand-off is measured on an idle gsmsd.
    func handoffs(
        count: Int?, board: HandoffBoard, until done: DoneFlag?, agents: Int, settle: Duration? = nil
    ) async -> HandoffResult {
        let http = instances[instances.count - 1]
        var toGame = Latencies()
        var titleResponse = Latencies()
        var retried = 0
        var errors = 0
        let giveUpAt = ContinuousClock.now + .seconds(120)
        while agents > 0, ContinuousClock.now < giveUpAt {
            if let count, toGame.count + errors >= count { break }
            if let done, done.isSet { break }
            let sessionId = UUID().uuidString.lowercased()
            let started = ContinuousClock.now
            let answer: ServiceHTTP.Answer
            do {
                answer = try await http.send(
                    .POST, "/titles/\(GSMSDaemon.titleId)/sessionhosts", headers: [("Authorization", authorization)],
                    body: allocationBody(sessionId: sessionId, region: RealAgents.region), timeout: .seconds(30))
            } catch {
                errors += 1
                await board.release(sessionId)
                continue
            }
            let answeredAt = ContinuousClock.now
            guard answer.status == 200 else {
                if answer.status == 503 {
                    retried += 1 // both real agents between sessions
                } else {
                    errors += 1
                }
                await board.abandon(sessionId)
                try? await Task.sleep(for: settle ?? .milliseconds(2))
                continue
            }
            titleResponse.record(answeredAt - started)
            if let arrivedAt = await board.arrival(of: sessionId, timeout: .seconds(10)) {
                toGame.record(arrivedAt - started)
            } else {
                errors += 1
            }
            await board.release(sessionId)
            if let settle { try? await Task.sleep(for: settle) }
        }
        return HandoffResult(
            toGame: toGame.summary, titleResponse: titleResponse.summary, retriedNoHost: retried, errors: errors)
    }
}
