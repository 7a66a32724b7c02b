import Foundation
import SessionHostModel
import Testing

@testable import AllocationService

/// The `gsms_standby_buffer_*` gauges and `gsms_scaling_hook_calls_total`.
@Suite("standby buffer metrics")
struct StandbyBufferMetricsTests {
    @Test("each policy's counts and VMs wanted are gauges by title and region; hook calls count by result")
    func gauges() async throws {
        let metrics = GSMSMetrics(subscribedTitles: ["1234"])
        let policy = StandbyBufferPolicy(titleId: "1234", region: "WestUS", bufferHosts: 2, maxVMs: 9)
        metrics.registerScalingHookCalls()
        metrics.recordStandbyBuffers(
            StandbyBufferReport(buffers: [
                StandbyBufferStatus(
                    titleId: "1234", region: "WestUS", policy: policy, standingBy: 3, busy: 6, other: 1, draining: 2,
                    vms: 8, drainingVMs: 1, slotsPerVM: 1, wantedVMs: 9)
            ]))
        metrics.scalingHookCalled(ok: true)
        metrics.scalingHookCalled(ok: false)
        metrics.scalingHookCalled(ok: false)
        let parsed = try await PrometheusTextParser.parse(String(decoding: metrics.metrics.exposition(), as: UTF8.self))
        let labels = ["title_id": "1234", "region": "WestUS"]
        #expect(parsed.value("gsms_standby_buffer_wanted_vms", labels) == 9)
        #expect(parsed.value("gsms_standby_buffer_vms", labels) == 8)
        #expect(parsed.value("gsms_standby_buffer_draining_vms", labels) == 1)
        #expect(parsed.value("gsms_standby_buffer_standing_by", labels) == 3)
        #expect(parsed.value("gsms_standby_buffer_busy", labels) == 6)
        #expect(parsed.value("gsms_scaling_hook_calls_total", ["result": "ok"]) == 1)
        #expect(parsed.value("gsms_scaling_hook_calls_total", ["result": "failed"]) == 2)
    }
}
