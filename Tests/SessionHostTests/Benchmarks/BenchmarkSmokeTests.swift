import Foundation
import SessionHostBenchmarks
import Testing

/// `sessionhost-bench` with tiny sizes against the debug binaries: each scenario runs and prints
/// the JSON report with its fields and sane values. No timing is asserted.
@Suite("sessionhost-bench", .serialized)
struct BenchmarkSmokeTests {
    static var bench: String { Binaries.directory + "/sessionhost-bench" }

    static func run<Report: Decodable>(_ arguments: [String], as type: Report.Type) async throws -> Report {
        let directory = try TemporaryDirectory()
        let result = try await ProcessRun.run(bench, arguments + ["--quiet"], in: directory, timeout: .seconds(240))
        guard result.status == 0 else {
            throw TestFailure("sessionhost-bench \(arguments) exited with \(result.status):\n\(result.stderr)")
        }
        return try SessionHostBenchmarks.Report.decoder().decode(Report.self, from: Data(result.stdout.utf8))
    }

    static func checkSane(_ latency: LatencySummary, count expected: Int? = nil) {
        if let expected { #expect(latency.count == expected) } else { #expect(latency.count > 0) }
        #expect(latency.minMs > 0)
        #expect(latency.minMs <= latency.p50Ms)
        #expect(latency.p50Ms <= latency.p90Ms)
        #expect(latency.p90Ms <= latency.p99Ms)
        #expect(latency.p99Ms <= latency.maxMs)
    }

    @Test("startup: one exec-to-READY=1 time per run")
    func startup() async throws {
        let report = try await Self.run(["startup", "--runs", "2"], as: StartupReport.self)
        #expect(report.runs == 2)
        #expect(report.execToReadyMs.count == 2)
        #expect(report.execToReadyMs.allSatisfy { $0 > 0 })
        Self.checkSane(report.execToReady, count: 2)
        #expect(report.targets.map(\.name) == ["READY=1 after exec"])
    }

    @Test("agent: GET /v1/host against the floor server, memory with its breakdown, idle CPU")
    func agent() async throws {
        let report = try await Self.run(
            [
                "agent", "--concurrency", "2", "--agent-requests", "200", "--rounds", "2", "--agent-warmup", "20",
                "--idle-seconds", "0.5",
            ],
            as: AgentReport.self)
        #expect(report.concurrency == 2)
        Self.checkSane(report.agent.latency, count: 400)
        Self.checkSane(report.floor.latency, count: 400)
        #expect(report.agent.errors == 0)
        #expect(report.floor.errors == 0)
        #expect(report.agent.requestsPerSecond > 0)
        #expect(report.floor.requestsPerSecond > 0)
        #expect(report.ratioP50 > 0)
        #expect(report.memory.vmRssMib > 1)
        #expect(report.memory.vmHwmMib >= report.memory.vmRssMib)
        #expect(report.memory.rssAnonMib > 0)
        #expect(report.memory.rssFileMib > 0)
        #expect(report.memory.rssKibByKind.contains { $0.name == "executable" && $0.rssKib > 0 })
        #expect(!report.memory.largestMappings.isEmpty)
        #expect(report.idle.seconds >= 0.5)
        #expect(report.idle.ticksPerSecond > 0)
        #expect(report.idle.cpuNanoseconds >= 0)
        #expect(report.targets.count == 3)
    }

    @Test("allocations: allocations and the floor from the same clients, hand-offs to a real agent's game")
    func allocations() async throws {
        let report = try await Self.run(
            [
                "allocations", "--hosts", "12", "--clients", "2", "--requests", "30", "--warmup", "4",
                "--real-agents", "1", "--handoffs", "3",
            ],
            as: AllocationsReport.self)
        #expect(report.hosts == 12)
        #expect(report.registration.hosts == 12)
        Self.checkSane(report.allocation.latency, count: 30)
        #expect(report.errors.isEmpty)
        Self.checkSane(report.floor.latency, count: 30)
        #expect(report.floor.errors == 0)
        #expect(report.allocationsPerSecond > 0)
        #expect(report.ratioP50 > 0)
        Self.checkSane(report.handoffIdle.toGame, count: 3)
        Self.checkSane(report.handoffIdle.titleResponse, count: 3)
        #expect(report.handoffIdle.errors == 0)
        // The simulated agents acknowledged and ended the simulated allocations.
        #expect(report.simulatedAgents.cycles > 0)
        #expect(report.simulatedAgents.heartbeatsPerSecondAsked > 0)
        #expect(report.simulatedAgents.errors == 0)
        #expect(report.gsmsd.cpuSecondsDuringLoad > 0)
        #expect(report.realAgentRssMib.count == 1)
        #expect(
            report.targets.map(\.name) == [
                "allocation p99", "allocations per second", "every allocation durable", "hand-off to the game p50",
                "gsmsd resident memory",
            ])
        // A tiny fleet never meets the 10,000-host memory target, whatever the memory.
        #expect(report.targets.last?.met == false)
    }
}
