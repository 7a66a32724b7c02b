import Foundation
import SessionHostModel
import Testing

@testable import AllocationService

/// gsmsd put together with a standby buffer policy and a command hook, on a real SQLite store.
@Suite("standby buffers in gsmsd, in process")
struct StandbyBufferInProcessTests {
    @Test("gsmsd computes the policy from the store's counts, reports the gauges and calls the hook at start")
    func wired() async throws {
        let hookDirectory = try TemporaryDirectory()
        let calls = hookDirectory.file("calls")
        let policy = StandbyBufferPolicy(titleId: "1234", region: "westus", bufferHosts: 3, maxVMs: 10, slotsPerVM: 1)
        let gsms = try GSMSInProcess { configuration in
            configuration.standbyBuffers = [policy]
            configuration.scalingHook = ScalingHookConfiguration(
                target: .command("cat >> '\(calls)' && echo >> '\(calls)'"), timeout: .seconds(30))
            configuration.bufferInterval = .milliseconds(100)
        }
        try await gsms.run { driver in
            try await driver.register(host: "h1", extra: ["vmId": "vm-1"])
            try await driver.register(host: "h2", extra: ["vmId": "vm-2"])
            let labels = ["title_id": "1234", "region": "westus"]
            try await Deadline.waitUntilAsync("the standby gauges counting both hosts") {
                let text = try await driver.client.send(.GET, "/metrics").text
                let parsed = try await PrometheusTextParser.parse(text)
                return parsed.value("gsms_standby_buffer_standing_by", labels) == 2
                    && parsed.value("gsms_standby_buffer_vms", labels) == 2
            }
        }
        let lines = try String(contentsOfFile: calls, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1, "busy stays 0: one call, at start")
        let request = try JSONDecoder().decode(ScalingRequest.self, from: Data(try #require(lines.first).utf8))
        #expect(request.buffer.wantedVMs == 3)
        #expect(request.previousWantedVMs == nil)
        withExtendedLifetime(hookDirectory) {}
    }
}
