import AllocationStore
import SessionHostModel

/// The standby buffers now: computes every policy from one read of the fleet's counts, keeps the
/// latest report (for `GET /operator/v1/buffers`) and records the `gsms_standby_buffer_*` gauges.
/// `StandbyBufferService` refreshes it every `buffer-interval`.
actor StandbyBufferMonitor {
    /// The configured policies, in the configuration's order.
    nonisolated let policies: [StandbyBufferPolicy]
    private let counts: @Sendable () async throws -> [RegionFleetCount]
    private let metrics: GSMSMetrics?
    private var latest: StandbyBufferReport?
    /// Whether the last refresh could not read the counts.
    private var lastRefreshFailed = false

    /// `counts` reads the fleet's counts (`InventoryStore.fleetCounts()` in gsmsd).
    init(
        policies: [StandbyBufferPolicy], metrics: GSMSMetrics? = nil,
        counts: @escaping @Sendable () async throws -> [RegionFleetCount]
    ) {
        self.policies = policies
        self.metrics = metrics
        self.counts = counts
    }

    /// Every policy's status: the latest computation's, or a new one when there is none yet or the
    /// latest could not read the counts (whose error is then thrown, e.g. a `StoreError`). With no
    /// policy configured, an empty report, without reading anything.
    func report() async throws -> StandbyBufferReport {
        if let latest, !lastRefreshFailed { return latest }
        return try await refresh()
    }

    /// Reads the counts once, computes every policy, keeps the report and records the gauges.
    /// When the counts cannot be read the previous report and gauges stay, and the error is thrown.
    @discardableResult
    func refresh() async throws -> StandbyBufferReport {
        guard !policies.isEmpty else { return StandbyBufferReport(buffers: []) }
        let fleet: [RegionFleetCount]
        do {
            fleet = try await counts()
        } catch {
            lastRefreshFailed = true
            throw error
        }
        let report = StandbyBufferComputation.report(policies: policies, counts: fleet)
        latest = report
        lastRefreshFailed = false
        metrics?.recordStandbyBuffers(report)
        return report
    }
}
