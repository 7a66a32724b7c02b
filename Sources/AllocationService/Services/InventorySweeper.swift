import AllocationStore
import Logging
import ServiceLifecycle

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Keeps the inventory honest over time: every `interval` it marks silent hosts Unhealthy,
/// abandons hand-offs nobody acknowledged (after a restart, say), expires queued cluster
/// requests whose callers stopped polling, and serves the titles' queues. Reads the time from
/// `timings`' clocks.
struct InventorySweeper: Service {
    let store: any InventoryStore
    let clusters: ClusterQueue
    let timings: AllocationTimings
    let logger: Logger

    var interval: Duration { min(.seconds(1), timings.hostTimeout / 3) }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sweepOnce()
                try? await timings.clock.sleep(for: interval)
            }
        }
    }

    func sweepOnce() async {
        let now = timings.now
        let policy = SweepPolicy(
            now: now, liveSince: timings.liveSince(now),
            handoffsDueBefore: now - timings.handoffTimeout.timeInterval,
            polledSince: now - timings.queueTimeout.timeInterval)
        do {
            let report = try await store.sweep(policy)
            if !report.isEmpty {
                logger.info(
                    "inventory sweep",
                    metadata: [
                        "unhealthy_hosts": "\(report.hostsMarkedUnhealthy.count)",
                        "abandoned_handoffs": "\(report.abandonedHandoffs.count)",
                        "requeued_clusters": "\(report.requeuedClusters.count)",
                        "expired_queue_entries": "\(report.expiredTickets.count)",
                    ])
            }
            for titleId in try await store.titlesWithQueuedClusters() {
                await clusters.dispatch(titleId: titleId)
            }
        } catch {
            if !Task.isCancelled { logger.error("inventory sweep failed", metadata: ["error": "\(error)"]) }
        }
    }
}
