#if canImport(Glibc)
import Glibc
#endif

/// `startup`: the time from exec (just before `posix_spawn`) to the arrival of `READY=1` on the
/// datagram socket given to `sessionhostd` as `NOTIFY_SOCKET`, over several runs, each with a
/// fresh state directory (the first start of a machine: the host identity is created and saved).
public struct StartupScenario: Sendable {
    public struct Options: Sendable {
        public var runs = 10

        public init() {}
    }

    let options: Options
    let binaries: Binaries
    let log: @Sendable (String) -> Void

    public func run() async throws -> StartupReport {
        let context = RunContext.current(binDirectory: binaries.directory)
        let workspace = try Workspace()
        defer { workspace.remove() }
        let notify = try NotifyListener(path: workspace.file("notify"))
        defer { notify.close() }
        log("startup: \(options.runs) starts of sessionhostd (\(workspace.path))")
        var latencies = Latencies()
        var samples: [Double] = []
        for run in 0..<max(1, options.runs) {
            notify.drain()
            let process = try ChildProcess.spawn(
                binaries.sessionhostd,
                arguments: [
                    "--socket", workspace.file("agent-\(run).sock"), "--state-dir", workspace.file("state-\(run)"),
                    "--title-id", "BENCH", "--region", "Bench", "--hostname", "agent.bench.invalid",
                    "--port", "game:udp:7777:30000",
                ],
                environment: ["NOTIFY_SOCKET": notify.path], logPath: workspace.file("agent.log"))
            do {
                let ready = try await notify.waitFor(
                    line: { $0 == "READY=1" }, describedAs: "READY=1 from sessionhostd", timeout: .seconds(30),
                    process: process)
                let elapsed = ready.at - process.spawnedAt
                latencies.record(elapsed)
                samples.append(Report.rounded(Double(elapsed.nanoseconds) / 1e6))
            } catch {
                await process.stop(signal: SIGKILL)
                throw error
            }
            await process.stop()
        }
        let summary = latencies.summary
        return StartupReport(
            context: context, runs: samples.count, execToReadyMs: samples, execToReady: summary,
            targets: [
                TargetCheck(
                    "READY=1 after exec", target: "within 100 ms",
                    measured: "p50 \(summary.p50Ms) ms, max \(summary.maxMs) ms over \(samples.count) starts",
                    met: summary.maxMs <= 100)
            ])
    }
}
