import AllocationStore
import Foundation
import Logging
import SessionHostModel
import ServiceLifecycle
import Synchronization
import Testing

@testable import AllocationService

/// `StandbyBufferService`: computes every interval of its clock and calls the scaling hook once
/// per change of the VMs wanted, again after a failure.
@Suite("standby buffer service")
struct StandbyBufferServiceTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let policy = StandbyBufferPolicy(titleId: "1234", region: "WestUS", bufferHosts: 2, maxVMs: 50)

    static func counts(active: Int) -> [RegionFleetCount] {
        [
            RegionFleetCount(
                titleId: "1234", region: "westus", hosts: [.active: active, .standingBy: 1], drainingHosts: 0,
                vms: active + 1, drainingVMs: 0, largestVM: 1)
        ]
    }

    /// The requests the hook command appended to `path`, one JSON object a line.
    static func requests(_ path: String) throws -> [ScalingRequest] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map {
            try JSONDecoder().decode(ScalingRequest.self, from: Data($0.utf8))
        }
    }

    @Test("the hook gets each change of the VMs wanted once, the first at start; a failed call is made again")
    func hookOncePerChange() async throws {
        let directory = try TemporaryDirectory()
        let calls = directory.file("calls")
        let failing = directory.file("fail")
        #expect(FileManager.default.createFile(atPath: failing, contents: nil))
        let command = "if [ -e '\(failing)' ]; then exit 3; fi; cat >> '\(calls)' && echo >> '\(calls)'"

        let fleet = StandbyBufferTestValue(Self.counts(active: 2))
        let reads = StandbyBufferTestValue(0)
        let clock = ManualClock()
        let metrics = GSMSMetrics(subscribedTitles: ["1234"])
        let monitor = StandbyBufferMonitor(policies: [Self.policy], metrics: metrics) {
            reads.update { $0 += 1 }
            return fleet.value
        }
        let service = StandbyBufferService(
            monitor: monitor, hook: ScalingHookCommand(command: command, timeout: .seconds(30)),
            interval: .seconds(5), clock: clock, wallClock: clock.wallClock, metrics: metrics, logger: Self.logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [service], logger: Self.logger))
        let running = Task { try await group.run() }

        // At start: computed, the hook fails (exit 3), nothing counts as sent.
        try await clock.waitForSleepers(1)
        #expect(reads.value == 1)
        #expect(try Self.requests(calls).isEmpty)
        var exposition = try await PrometheusTextParser.parse(
            String(decoding: metrics.metrics.exposition(), as: UTF8.self))
        #expect(exposition.value("gsms_scaling_hook_calls_total", ["result": "failed"]) == 1)
        #expect(exposition.value("gsms_scaling_hook_calls_total", ["result": "ok"]) == 0)

        // The next interval: the same value, sent again, now taken.
        try FileManager.default.removeItem(atPath: failing)
        clock.advance(by: .seconds(5))
        try await Deadline.waitUntil("the hook's first request") { try Self.requests(calls).count == 1 }
        try await clock.waitForSleepers(1)
        let first = try #require(try Self.requests(calls).first)
        #expect(first.previousWantedVMs == nil)
        #expect(first.buffer.wantedVMs == 4)
        #expect(first.buffer.busy == 2)
        #expect(first.buffer.policy == Self.policy)

        // Unchanged: computed, not sent.
        clock.advance(by: .seconds(5))
        try await clock.waitForSleepers(1)
        #expect(reads.value == 3)
        #expect(try Self.requests(calls).count == 1)

        // Changed: sent once, with the previous value.
        fleet.update { $0 = Self.counts(active: 5) }
        clock.advance(by: .seconds(5))
        try await Deadline.waitUntil("the hook's second request") { try Self.requests(calls).count == 2 }
        try await clock.waitForSleepers(1)
        let second = try Self.requests(calls)[1]
        #expect(second.previousWantedVMs == 4)
        #expect(second.buffer.wantedVMs == 7)
        clock.advance(by: .seconds(5))
        try await clock.waitForSleepers(1)
        #expect(try Self.requests(calls).count == 2)

        #expect(try await monitor.report().buffers.map(\.wantedVMs) == [7])
        exposition = try await PrometheusTextParser.parse(String(decoding: metrics.metrics.exposition(), as: UTF8.self))
        #expect(exposition.value("gsms_scaling_hook_calls_total", ["result": "failed"]) == 1)
        #expect(exposition.value("gsms_scaling_hook_calls_total", ["result": "ok"]) == 2)
        #expect(exposition.value("gsms_standby_buffer_wanted_vms", ["title_id": "1234", "region": "WestUS"]) == 7)

        await group.triggerGracefulShutdown()
        try await Deadline.within(.seconds(30), "the service group") { try await running.value }
        #expect(clock.sleeperCount == 0)
        withExtendedLifetime(directory) {}
    }

    @Test("with no policy the service reads nothing and waits for the shutdown")
    func noPolicies() async throws {
        let reads = StandbyBufferTestValue(0)
        let monitor = StandbyBufferMonitor(policies: []) {
            reads.update { $0 += 1 }
            return []
        }
        let hook = RecordingHook()
        let service = StandbyBufferService(
            monitor: monitor, hook: hook, interval: .seconds(5), clock: ManualClock(),
            logger: Self.logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [service], logger: Self.logger))
        let running = Task { try await group.run() }
        #expect(try await monitor.report() == StandbyBufferReport(buffers: []))
        await group.triggerGracefulShutdown()
        try await Deadline.within(.seconds(30), "the service group") { try await running.value }
        #expect(reads.value == 0)
        #expect(hook.calls.value == 0)
    }

    @Test("the report: computed on demand at first, the latest after; a failed read throws until one succeeds")
    func monitorReport() async throws {
        let failing = StandbyBufferTestValue(true)
        let reads = StandbyBufferTestValue(0)
        let monitor = StandbyBufferMonitor(policies: [Self.policy]) {
            reads.update { $0 += 1 }
            if failing.value { throw StoreError.unavailable("down") }
            return Self.counts(active: 1)
        }
        await #expect(throws: StoreError.self) { try await monitor.report() }
        failing.update { $0 = false }
        #expect(try await monitor.report().buffers.map(\.wantedVMs) == [3])
        #expect(try await monitor.report().buffers.map(\.wantedVMs) == [3])
        #expect(reads.value == 2, "the second report is the kept one")
    }
}

/// A scaling hook that counts its calls.
final class RecordingHook: ScalingHook {
    let calls = StandbyBufferTestValue(0)

    func send(_ body: [UInt8]) async throws {
        calls.update { $0 += 1 }
    }
}

/// A value shared between a test and the closures it hands out.
final class StandbyBufferTestValue<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    var value: Value { mutex.withLock { $0 } }

    func update(_ change: (inout Value) -> Void) {
        mutex.withLock { change(&$0) }
    }
}
