import NIOPosix
import SessionHostModel
import SessionHostSDK

/// `agent`: `GET /v1/host` over the agent's Unix socket at concurrency C, against a minimal
/// SwiftNIO server on a Unix socket answering the same body (the floor), alternating between the
/// two round by round; then the agent's resident memory and its CPU use while idle. With
/// `slots` > 1 the agent runs that many session hosts and the requests go to each slot's own
/// socket in turn (every slot answers as fast as a single-slot agent: the target is per slot).
public struct AgentScenario: Sendable {
    public struct Options: Sendable {
        public var concurrency = 8
        /// Requests per target and round.
        public var requests = 20000
        public var rounds = 3
        public var warmup = 2000
        public var idleSeconds = 10.0
        /// `sessionhostd --slots`.
        public var slots = 1

        public init() {}

        /// The resident memory target: 20 MiB for one slot, 24 MiB for up to 16.
        var memoryTargetMib: Double { slots == 1 ? 20 : 24 }
    }

    let options: Options
    let binaries: Binaries
    let log: @Sendable (String) -> Void

    public func run() async throws -> AgentReport {
        let context = RunContext.current(binDirectory: binaries.directory)
        let workspace = try Workspace()
        defer { workspace.remove() }
        let socket = workspace.file("agent.sock")
        log("agent: starting sessionhostd in local mode (\(workspace.path))")
        let agent = try await Daemon.start(
            binaries.sessionhostd,
            arguments: [
                "--socket", socket, "--state-dir", workspace.file("state"), "--title-id", "BENCH", "--region", "Bench",
                "--hostname", "agent.bench.invalid", "--port", "game:udp:7777:30000", "--slots", "\(options.slots)",
            ],
            notifyPath: workspace.file("agent.notify"), logPath: workspace.file("agent.log"))
        var floorServer: FloorServer?
        do {
            // The floor answers exactly what the agent answers.
            let sockets =
                options.slots == 1
                ? [socket] : (1...options.slots).map { SlotSockets.path(of: $0, beside: socket) }
            let host = try await AgentClient(socketPath: sockets[0]).raw(method: "GET", path: "/v1/host")
            guard host.status == 200 else { throw BenchError("GET /v1/host answered \(host.status)") }
            let floorSocket = workspace.file("floor.sock")
            let floor = try await FloorServer.start(path: floorSocket, body: host.body)
            floorServer = floor
            let report = try await measure(
                agent: agent, sockets: sockets, floorSocket: floorSocket, bodyBytes: host.body.count, context: context)
            await floor.stop()
            await agent.stop()
            return report
        } catch {
            await floorServer?.stop()
            await agent.stop()
            throw error
        }
    }

    private func measure(
        agent: Daemon, sockets: [String], floorSocket: String, bodyBytes: Int, context: RunContext
    ) async throws -> AgentReport {
        let group = MultiThreadedEventLoopGroup.singleton
        let c = options.concurrency
        log("agent: warm-up, \(options.warmup) requests to each")
        _ = try await UnixSocketLoad.run(
            socketPath: floorSocket, path: "/v1/host", total: options.warmup, concurrency: c, group: group)
        for socket in sockets {
            _ = try await UnixSocketLoad.run(
                socketPath: socket, path: "/v1/host", total: max(1, options.warmup / sockets.count), concurrency: c,
                group: group)
        }

        var agentResult = UnixSocketLoad.Result()
        var floorResult = UnixSocketLoad.Result()
        for round in 0..<max(1, options.rounds) {
            log(
                "agent: round \(round + 1) of \(options.rounds), \(options.requests) requests to each at concurrency \(c)"
            )
            // Alternate which goes first, so that neither always runs on a warmer or cooler machine.
            for target in round % 2 == 0 ? ["floor", "agent"] : ["agent", "floor"] {
                if target == "agent" {
                    // The round's requests spread over the slots' sockets, one after the other.
                    for socket in sockets {
                        let part = try await UnixSocketLoad.run(
                            socketPath: socket, path: "/v1/host", total: max(1, options.requests / sockets.count),
                            concurrency: c, group: group)
                        agentResult.latencies.merge(part.latencies)
                        agentResult.errors += part.errors
                        agentResult.seconds += part.seconds
                    }
                } else {
                    let part = try await UnixSocketLoad.run(
                        socketPath: floorSocket, path: "/v1/host", total: options.requests, concurrency: c,
                        group: group)
                    floorResult.latencies.merge(part.latencies)
                    floorResult.errors += part.errors
                    floorResult.seconds += part.seconds
                }
            }
        }

        let memory = ProcFS.memory(pid: agent.pid)
        log("agent: \(memory.vmRssMib) MiB resident; measuring \(options.idleSeconds) idle seconds")
        try await Task.sleep(for: .seconds(1)) // let the last connections close
        let ticksBefore = ProcFS.cpuTicks(pid: agent.pid) ?? 0
        let nanosecondsBefore = ProcFS.cpuNanoseconds(pid: agent.pid) ?? 0
        let idleStarted = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(Int64(options.idleSeconds * 1000)))
        let ticks = (ProcFS.cpuTicks(pid: agent.pid) ?? 0) - ticksBefore
        let nanoseconds = (ProcFS.cpuNanoseconds(pid: agent.pid) ?? 0) - nanosecondsBefore
        let idleSeconds = (ContinuousClock.now - idleStarted).seconds
        let idle = IdleCPUReport(
            seconds: Report.rounded(idleSeconds), cpuTicks: ticks, ticksPerSecond: ProcFS.ticksPerSecond,
            percentOfCoreFromStat: Report.rounded(Double(ticks) / Double(ProcFS.ticksPerSecond) / idleSeconds * 100),
            cpuNanoseconds: nanoseconds,
            percentOfCoreFromCpuClock: Report.rounded(Double(nanoseconds) / 1e9 / idleSeconds * 100))

        let agentSummary = agentResult.latencies.summary
        let floorSummary = floorResult.latencies.summary
        let agentRate = Double(agentResult.latencies.count) / max(agentResult.seconds, 1e-9)
        let floorRate = Double(floorResult.latencies.count) / max(floorResult.seconds, 1e-9)
        func ratio(_ a: Double, _ b: Double) -> Double { b > 0 ? Report.rounded(a / b) : 0 }
        let ratioP50 = ratio(agentSummary.p50Ms, floorSummary.p50Ms)
        return AgentReport(
            context: context, concurrency: c, rounds: options.rounds,
            agent: EndpointResult(
                request:
                    "GET /v1/host (sessionhostd\(sockets.count > 1 ? " with \(sockets.count) slots, each slot's socket in turn" : ""), \(bodyBytes)-byte answer)",
                latency: agentSummary,
                requestsPerSecond: Report.rounded(agentRate), errors: agentResult.errors),
            floor: EndpointResult(
                request: "GET /v1/host (floor: SessionHostHTTP's server, the same answer)", latency: floorSummary,
                requestsPerSecond: Report.rounded(floorRate), errors: floorResult.errors),
            ratioP50: ratioP50, ratioP99: ratio(agentSummary.p99Ms, floorSummary.p99Ms),
            throughputRatio: ratio(agentRate, floorRate),
            memory: memory, idle: idle,
            targets: [
                TargetCheck(
                    "agent API p50 against the floor", target: "within 2×",
                    measured:
                        "\(ratioP50)× (\(agentSummary.p50Ms) ms against \(floorSummary.p50Ms) ms at concurrency \(c))",
                    met: ratioP50 > 0 && ratioP50 <= 2),
                TargetCheck(
                    "agent resident memory\(sockets.count > 1 ? " (\(sockets.count) slots)" : "")",
                    target: "≤ \(Int(options.memoryTargetMib)) MiB",
                    measured: "\(memory.vmRssMib) MiB VmRSS after the run",
                    met: memory.vmRssMib <= options.memoryTargetMib),
                TargetCheck(
                    "agent idle CPU", target: "< 0.1% of a core",
                    measured:
                        "\(idle.percentOfCoreFromCpuClock)% over \(idle.seconds) s (process CPU clock; \(ticks) ticks in /proc/PID/stat)",
                    met: idle.percentOfCoreFromCpuClock < 0.1),
            ])
    }
}
