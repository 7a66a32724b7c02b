import AllocationStore
import SessionHostModel
import Testing

@testable import AllocationService

/// The VMs a standby buffer policy wants, from the fleet's counts.
@Suite("standby buffer computation")
struct StandbyBufferComputationTests {
    static func region(
        _ titleId: String = "1234", _ region: String = "WestUS", standingBy: Int = 0, allocating: Int = 0,
        active: Int = 0, initializing: Int = 0, unhealthy: Int = 0, draining: Int = 0, vms: Int = 0,
        drainingVMs: Int = 0, largestVM: Int = 1
    ) -> RegionFleetCount {
        var hosts: [HostState: Int] = [:]
        for (state, count) in [
            (HostState.standingBy, standingBy), (.allocating, allocating), (.active, active),
            (.initializing, initializing), (.unhealthy, unhealthy),
        ] where count > 0 {
            hosts[state] = count
        }
        return RegionFleetCount(
            titleId: titleId, region: region, hosts: hosts, drainingHosts: draining, vms: vms,
            drainingVMs: drainingVMs, largestVM: largestVM)
    }

    static func wanted(_ policy: StandbyBufferPolicy, _ counts: [RegionFleetCount]) -> Int {
        StandbyBufferComputation.status(of: policy, counts: counts).wantedVMs
    }

    @Test("buffer hosts: busy plus the buffer, in VMs of the region's largest VM; counts copied into the status")
    func bufferHosts() {
        let policy = StandbyBufferPolicy(titleId: "1234", region: "westus", bufferHosts: 4, maxVMs: 50)
        let counts = [
            Self.region(standingBy: 3, allocating: 1, active: 9, initializing: 2, unhealthy: 1, vms: 4, largestVM: 4)
        ]
        let status = StandbyBufferComputation.status(of: policy, counts: counts)
        // 10 busy + 4 = 14 hosts, 4 per VM: 4 VMs.
        #expect(
            status
                == StandbyBufferStatus(
                    titleId: "1234", region: "westus", policy: policy, standingBy: 3, busy: 10, other: 3, draining: 0,
                    vms: 4, drainingVMs: 0, slotsPerVM: 4, wantedVMs: 4))
        // One slot per VM: 14 VMs.
        #expect(Self.wanted(policy, [Self.region(allocating: 1, active: 9, largestVM: 1)]) == 14)
        // No VM at all: 1 slot per VM.
        #expect(Self.wanted(policy, [Self.region(largestVM: 0)]) == 4)
    }

    @Test("buffer percent: p% of the hosts wanted stand by; nothing busy leaves it to min-vms")
    func bufferPercent() {
        let policy = StandbyBufferPolicy(titleId: "1234", region: "WestUS", bufferPercent: 20, maxVMs: 100)
        // 8 busy / 0.8 = 10 hosts exactly (not 11).
        #expect(Self.wanted(policy, [Self.region(active: 8)]) == 10)
        // 9 busy / 0.8 = 11.25: 12 hosts; 4 per VM: 3 VMs.
        #expect(Self.wanted(policy, [Self.region(active: 9, largestVM: 4)]) == 3)
        #expect(Self.wanted(policy, [Self.region(active: 0)]) == 0)
        var floor = policy
        floor.minVMs = 2
        #expect(Self.wanted(floor, [Self.region(active: 0)]) == 2)
        var none = policy
        none.bufferPercent = 0
        #expect(Self.wanted(none, [Self.region(active: 7)]) == 7)
        var most = policy
        most.bufferPercent = 99.5
        // 1 / 0.005 = 200 hosts, capped at 100 VMs.
        #expect(Self.wanted(most, [Self.region(active: 1)]) == 100)
    }

    @Test("min-vms and max-vms clamp the result")
    func clamp() {
        let policy = StandbyBufferPolicy(titleId: "1234", region: "WestUS", bufferHosts: 2, minVMs: 3, maxVMs: 5)
        #expect(Self.wanted(policy, [Self.region(active: 0)]) == 3)
        #expect(Self.wanted(policy, [Self.region(active: 2)]) == 4)
        #expect(Self.wanted(policy, [Self.region(active: 40)]) == 5)
        let zero = StandbyBufferPolicy(titleId: "1234", region: "WestUS", bufferHosts: 2, maxVMs: 0)
        #expect(Self.wanted(zero, [Self.region(active: 40)]) == 0)
    }

    @Test("slots per VM from the policy win over the region's largest VM")
    func slotsFromPolicy() {
        let policy = StandbyBufferPolicy(titleId: "1234", region: "WestUS", bufferHosts: 3, maxVMs: 50, slotsPerVM: 8)
        let status = StandbyBufferComputation.status(of: policy, counts: [Self.region(active: 14, largestVM: 2)])
        // 17 hosts, 8 per VM: 3 VMs (with the region's 2 per VM it would be 9).
        #expect(status.slotsPerVM == 8)
        #expect(status.wantedVMs == 3)
    }

    @Test("draining hosts and VMs count neither as busy nor as capacity")
    func drainingExcluded() {
        let policy = StandbyBufferPolicy(titleId: "1234", region: "WestUS", bufferHosts: 2, maxVMs: 50)
        let status = StandbyBufferComputation.status(
            of: policy, counts: [Self.region(standingBy: 2, active: 3, draining: 6, vms: 5, drainingVMs: 6)])
        #expect(status.busy == 3)
        #expect(status.draining == 6)
        #expect(status.drainingVMs == 6)
        #expect(status.vms == 5)
        #expect(status.wantedVMs == 5)
    }

    @Test("a region or title without hosts counts zero; regions match ignoring case and spaces")
    func absentAndMatching() {
        let policy = StandbyBufferPolicy(titleId: "1234", region: "West US", bufferHosts: 3, minVMs: 1, maxVMs: 9)
        let others = [Self.region("ABCD", "WestUS", active: 30), Self.region("1234", "EastUS", active: 30)]
        let status = StandbyBufferComputation.status(of: policy, counts: others)
        #expect(status.busy == 0 && status.standingBy == 0 && status.vms == 0 && status.slotsPerVM == 1)
        #expect(status.wantedVMs == 3)
        #expect(Self.wanted(policy, others + [Self.region("1234", "westus", active: 4)]) == 7)

        let report = StandbyBufferComputation.report(
            policies: [policy, StandbyBufferPolicy(titleId: "ABCD", region: "westus", bufferHosts: 0, maxVMs: 99)],
            counts: others)
        #expect(report.buffers.map(\.wantedVMs) == [3, 30])
    }
}
