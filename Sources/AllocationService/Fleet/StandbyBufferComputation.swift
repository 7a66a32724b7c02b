import AllocationStore
import SessionHostModel

/// The VMs each standby buffer policy wants, from the fleet's counts: a pure function, the same
/// on every gsmsd instance that reads the same counts (docs/operations.md, "Standby buffers and
/// scaling").
///
/// For a policy and its region (title equal, region equal as `TitleRules.locationKey`; a region
/// without hosts counts zero everywhere):
///
/// - busy = hosts Allocating + Active, not draining;
/// - slots per VM = the policy's `slotsPerVM`, else the most hosts one VM of the region has, else 1;
/// - hosts wanted = busy + `bufferHosts`, or with `bufferPercent` p: ⌈busy / (1 − p/100)⌉, so
///   that p percent of the hosts wanted stand by (0 when nothing is busy: `minVMs` then decides);
/// - VMs wanted = ⌈hosts wanted / slots per VM⌉, clamped to `minVMs`…`maxVMs`.
///
/// Draining hosts and their sessions count neither as busy nor as capacity: they are going away,
/// and the VMs wanted are VMs that are not draining.
enum StandbyBufferComputation {
    /// Every policy's status, in the order of `policies`.
    static func report(policies: [StandbyBufferPolicy], counts: [RegionFleetCount]) -> StandbyBufferReport {
        StandbyBufferReport(buffers: policies.map { status(of: $0, counts: counts) })
    }

    /// One policy's status.
    static func status(of policy: StandbyBufferPolicy, counts: [RegionFleetCount]) -> StandbyBufferStatus {
        let key = TitleRules.locationKey(policy.region)
        // A store groups by the region key; should it answer one region under two spellings, they add up.
        var hosts: [HostState: Int] = [:]
        var draining = 0
        var vms = 0
        var drainingVMs = 0
        var largestVM = 0
        for count in counts where count.titleId == policy.titleId && TitleRules.locationKey(count.region) == key {
            hosts.merge(count.hosts, uniquingKeysWith: +)
            draining += count.drainingHosts
            vms += count.vms
            drainingVMs += count.drainingVMs
            largestVM = max(largestVM, count.largestVM)
        }
        let standingBy = hosts[.standingBy, default: 0]
        let busy = hosts[.allocating, default: 0] + hosts[.active, default: 0]
        let other = hosts[.initializing, default: 0] + hosts[.terminating, default: 0] + hosts[.unhealthy, default: 0]
        let slotsPerVM = max(policy.slotsPerVM ?? largestVM, 1)
        let wantedHosts = Self.wantedHosts(busy: busy, policy: policy)
        let vmsForHosts = (wantedHosts + slotsPerVM - 1) / slotsPerVM
        let wantedVMs = min(max(vmsForHosts, policy.minVMs), max(policy.maxVMs, policy.minVMs))
        return StandbyBufferStatus(
            titleId: policy.titleId, region: policy.region, policy: policy, standingBy: standingBy, busy: busy,
            other: other, draining: draining, vms: vms, drainingVMs: drainingVMs, slotsPerVM: slotsPerVM,
            wantedVMs: wantedVMs)
    }

    /// Busy hosts plus the buffer.
    static func wantedHosts(busy: Int, policy: StandbyBufferPolicy) -> Int {
        if let percent = policy.bufferPercent, percent > 0 {
            guard percent < 100, busy > 0 else { return busy }
            // ⌈busy × 100 / (100 − p)⌉, minus a hair so that 8 / 0.8 is 10, not 11.
            let exact = Double(busy) * 100 / (100 - percent)
            return max(busy, Int((exact - 1e-9).rounded(.up)))
        }
        return busy + max(policy.bufferHosts ?? 0, 0)
    }
}
