import Logging
import SessionHostModel
import ServiceLifecycle

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Every `interval`, refreshes the standby buffers (`StandbyBufferMonitor`: one read of the
/// fleet's counts, every policy computed, gauges recorded) and tells the scaling hook about each
/// region whose VMs wanted differ from the last value it took, the first computation after start
/// included. A hook that fails is logged and called again at the next interval; hooks are called
/// one after the other, so a slow hook delays the next computation (never an allocation).
///
/// With no policy it does nothing until the group shuts down. Several gsmsd instances over one
/// database each compute the same numbers and each call the hook, which therefore receives the
/// absolute count wanted, never a difference.
struct StandbyBufferService: Service {
    let monitor: StandbyBufferMonitor
    let hook: (any ScalingHook)?
    let interval: Duration
    let clock: any Clock<Duration>
    let wallClock: WallClock
    let metrics: GSMSMetrics?
    let logger: Logger

    init(
        monitor: StandbyBufferMonitor, hook: (any ScalingHook)?, interval: Duration,
        clock: any Clock<Duration> = ContinuousClock(), wallClock: WallClock = .system, metrics: GSMSMetrics? = nil,
        logger: Logger
    ) {
        self.monitor = monitor
        self.hook = hook
        self.interval = interval
        self.clock = clock
        self.wallClock = wallClock
        self.metrics = metrics
        self.logger = logger
    }

    func run() async throws {
        guard !monitor.policies.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        if hook != nil { metrics?.registerScalingHookCalls() }
        await cancelWhenGracefulShutdown {
            var sent = SentCounts()
            while !Task.isCancelled {
                await computeOnce(sent: &sent)
                try? await clock.sleep(for: interval)
            }
        }
    }

    /// The VMs wanted that the hook took last, by title and region key.
    struct SentCounts: Sendable {
        fileprivate var values: [String: Int] = [:]

        fileprivate static func key(_ status: StandbyBufferStatus) -> String {
            status.titleId + "\u{0}" + TitleRules.locationKey(status.region)
        }
    }

    /// One computation, and the hook calls it makes necessary.
    func computeOnce(sent: inout SentCounts) async {
        let report: StandbyBufferReport
        do {
            report = try await monitor.refresh()
        } catch {
            if !Task.isCancelled {
                logger.warning("cannot compute the standby buffers", metadata: ["error": "\(error)"])
            }
            return
        }
        guard let hook else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for status in report.buffers {
            let key = SentCounts.key(status)
            let previous = sent.values[key]
            guard previous != status.wantedVMs, !Task.isCancelled else { continue }
            let request = ScalingRequest(
                buffer: status, previousWantedVMs: previous,
                at: wallClock.now.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            let metadata: Logger.Metadata = [
                "title_id": "\(status.titleId)", "region": "\(status.region)",
                "wanted_vms": "\(status.wantedVMs)", "previous_wanted_vms": "\(previous.map(String.init) ?? "none")",
            ]
            do {
                try await hook.send(Array(try encoder.encode(request)))
                sent.values[key] = status.wantedVMs
                metrics?.scalingHookCalled(ok: true)
                logger.info("scaling hook called", metadata: metadata)
            } catch {
                if Task.isCancelled { return }
                metrics?.scalingHookCalled(ok: false)
                var failed = metadata
                failed["error"] = "\(error)"
                logger.error("scaling hook failed; calling it again at the next interval", metadata: failed)
            }
        }
    }
}
