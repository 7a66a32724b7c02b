import AllocationStore
import Logging
import SessionHostMetrics
import SessionHostModel
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// gsmsd's metrics (docs/operations.md, "Metrics"), served at `GET /metrics`.
///
/// Counters and latency histograms count what this instance did. The inventory gauges (hosts
/// by title, region and state; queue length and wait) are read from the store when `/metrics`
/// is scraped, so several instances on one database all report the same, fleet-wide numbers.
final class GSMSMetrics: Sendable {
    let metrics = MetricsRegistry()
    /// The titles with a subscription: the only values the `title_id` label takes on title
    /// requests (a request for any other title counts under `title_id=""`).
    let subscribedTitles: Set<String>
    /// Every (title, region) that has had hosts: each keeps reporting every state, with zeros
    /// when it has no hosts in it, so that a region running out shows as 0 rather than vanishing.
    private let hostGroups = Mutex<Set<HostGroup>>([])

    private struct HostGroup: Hashable {
        var titleId: String
        var region: String
    }

    init(subscribedTitles: Set<String>) {
        self.subscribedTitles = subscribedTitles
    }

    /// The `title_id` label of a title request: the title if it has a subscription, else "".
    func titleLabel(_ titleId: String) -> String {
        subscribedTitles.contains(titleId) ? titleId : ""
    }

    // MARK: Recording

    /// `POST /titles/{titleId}/sessionhosts` answered with `status` after `duration`.
    func allocationAnswered(titleId: String, status: Int, duration: Duration) {
        let title = titleLabel(titleId)
        metrics.counter("gsms_allocations_total", [("title_id", title), ("result", String(status))]).increment()
        if status == 200 {
            metrics.timer("gsms_allocation_duration_seconds", [("title_id", title)]).record(duration)
        }
    }

    /// `POST /titles/{titleId}/clusters` answered: `result` is the fulfilment state, or the
    /// HTTP status of a refusal.
    func clusterRequestAnswered(titleId: String, result: String) {
        metrics.counter("gsms_cluster_requests_total", [("title_id", titleLabel(titleId)), ("result", result)])
            .increment()
    }

    /// How a hand-off this instance waited for ended.
    enum HandoffResult: String {
        /// The agent acknowledged: the session is Active.
        case acknowledged
        /// No acknowledgement before the deadline: the host is set aside.
        case timedOut = "timed_out"
        /// The session left the host meanwhile (another instance moved it on).
        case withdrawn
    }

    /// A hand-off ended after `duration` (host claimed and agent woken to acknowledgement).
    func handoffFinished(titleId: String, result: HandoffResult, duration: Duration) {
        metrics.counter("gsms_handoffs_total", [("title_id", titleId), ("result", result.rawValue)]).increment()
        if result == .acknowledged {
            metrics.timer("gsms_handoff_duration_seconds", [("title_id", titleId)]).record(duration)
        }
    }

    /// An agent's request was refused with a 4xx other than 409 (`code`: a wrong fleet secret or
    /// host key, an unsubscribed title …): that host cannot join the pool.
    func agentRefused(code: String) {
        metrics.counter("gsms_agent_refusals_total", [("code", code)]).increment()
    }

    /// An agent's heartbeat was recorded.
    func heartbeatReceived(titleId: String) {
        metrics.counter("gsms_agent_heartbeats_total", [("title_id", titleId)]).increment()
    }

    /// The standby buffers were computed: one gauge per policy and measure, labelled with the
    /// policy's title and region (as configured).
    func recordStandbyBuffers(_ report: StandbyBufferReport) {
        for status in report.buffers {
            let labels = [("title_id", status.titleId), ("region", status.region)]
            metrics.gauge("gsms_standby_buffer_wanted_vms", labels).record(status.wantedVMs)
            metrics.gauge("gsms_standby_buffer_vms", labels).record(status.vms)
            metrics.gauge("gsms_standby_buffer_draining_vms", labels).record(status.drainingVMs)
            metrics.gauge("gsms_standby_buffer_standing_by", labels).record(status.standingBy)
            metrics.gauge("gsms_standby_buffer_busy", labels).record(status.busy)
        }
    }

    /// Makes `gsms_scaling_hook_calls_total` report both results from the start, 0 until counted.
    func registerScalingHookCalls() {
        for result in ["ok", "failed"] {
            metrics.counter("gsms_scaling_hook_calls_total", [("result", result)]).increment(by: 0)
        }
    }

    /// The scaling hook took a request (`ok`), or did not.
    func scalingHookCalled(ok: Bool) {
        metrics.counter("gsms_scaling_hook_calls_total", [("result", ok ? "ok" : "failed")]).increment()
    }

    // MARK: Scraping

    /// Reads the inventory gauges from `store`, then renders every metric in the Prometheus
    /// text format. When the store cannot be read, the gauges keep their last values and
    /// `gsms_inventory_up` is 0.
    /// `channels` are the hand-off channels this instance knows: hosts holding a poll (up), and
    /// hosts whose channel it saw die (down).
    func scrape(store: any InventoryStore, channels: (up: Int, down: Int), logger: Logger, now: Date = Date()) async
        -> [UInt8]
    {
        metrics.gauge("gsms_handoff_channels_up").record(channels.up)
        metrics.gauge("gsms_handoff_channels_down").record(channels.down)
        do {
            let hosts = try await store.hostCounts()
            let queues = try await store.queueSummaries()
            recordHosts(hosts)
            recordQueues(queues, now: now)
            metrics.gauge("gsms_inventory_up").record(1)
        } catch {
            logger.warning("cannot read the inventory for /metrics", metadata: ["error": "\(error)"])
            metrics.gauge("gsms_inventory_up").record(0)
        }
        return metrics.exposition()
    }

    private func recordHosts(_ counts: [HostCount]) {
        var current: [HostGroup: [HostState: Int]] = [:]
        for count in counts {
            current[HostGroup(titleId: count.titleId, region: count.region), default: [:]][count.state, default: 0] +=
                count.count
        }
        let groups = hostGroups.withLock { known in
            known.formUnion(current.keys)
            return known
        }
        for group in groups {
            for state in HostState.allCases {
                metrics.gauge(
                    "gsms_hosts", [("title_id", group.titleId), ("region", group.region), ("state", state.rawValue)]
                ).record(current[group]?[state] ?? 0)
            }
        }
    }

    private func recordQueues(_ summaries: [QueueSummary], now: Date) {
        let byTitle = Dictionary(summaries.map { ($0.titleId, $0) }, uniquingKeysWith: { first, _ in first })
        for title in subscribedTitles.union(byTitle.keys) {
            let summary = byTitle[title]
            metrics.gauge("gsms_queue_length", [("title_id", title)]).record(summary?.length ?? 0)
            let wait = summary.map { max(0, now.timeIntervalSince($0.oldestEnqueuedAt)) } ?? 0
            metrics.gauge("gsms_queue_oldest_wait_seconds", [("title_id", title)]).record(wait)
        }
    }
}
