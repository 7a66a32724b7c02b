import AllocationStore
@testable import AllocationService
@testable import AllocationStoreSQLite
import Foundation
import Logging
import SessionHostModel
import Testing

@Suite("gsmsd metrics, in process")
struct GSMSMetricsTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test(
        "a region whose hosts all left reports 0 in every state rather than vanishing; queues of subscribed titles report 0"
    )
    func zerosStay() async throws {
        let directory = try TemporaryDirectory()
        let store = try await SQLiteInventoryStore.open(path: directory.file("gsms.sqlite"), logger: Self.logger)
        let metrics = GSMSMetrics(subscribedTitles: ["1234ABCD"])
        let registration = InventoryStoreContract.registration(region: "EastUS")
        _ = try await store.registerHost(id: "e1", registration, at: Date())
        let first = try await PrometheusTextParser.parse(
            Self.text(await metrics.scrape(store: store, channels: (up: 0, down: 0), logger: Self.logger)))
        #expect(first.value("gsms_hosts", ["title_id": "1234ABCD", "region": "EastUS", "state": "StandingBy"]) == 1)
        #expect(first.samples("gsms_hosts").count == HostState.allCases.count)

        #expect(try await store.deregisterHost(id: "e1"))
        let after = try await PrometheusTextParser.parse(
            Self.text(await metrics.scrape(store: store, channels: (up: 0, down: 0), logger: Self.logger)))
        for state in HostState.allCases {
            #expect(
                after.value("gsms_hosts", ["title_id": "1234ABCD", "region": "EastUS", "state": state.rawValue]) == 0)
        }
        #expect(after.value("gsms_queue_length", ["title_id": "1234ABCD"]) == 0)
        #expect(after.value("gsms_queue_oldest_wait_seconds", ["title_id": "1234ABCD"]) == 0)
        #expect(after.value("gsms_inventory_up") == 1)

        // A database that cannot be read: the scrape still answers, saying so.
        try await store.close()
        let broken = try await PrometheusTextParser.parse(
            Self.text(await metrics.scrape(store: store, channels: (up: 0, down: 0), logger: Self.logger)))
        #expect(broken.value("gsms_inventory_up") == 0)
        #expect(broken.value("gsms_hosts", ["title_id": "1234ABCD", "region": "EastUS", "state": "StandingBy"]) == 0)
        withExtendedLifetime(directory) {}
    }

    @Test("title labels are only subscribed titles; only 200s are timed; hand-off results are counted")
    func labels() async throws {
        let metrics = GSMSMetrics(subscribedTitles: ["1234ABCD"])
        metrics.allocationAnswered(titleId: "1234ABCD", status: 200, duration: .milliseconds(3))
        metrics.allocationAnswered(titleId: "1234ABCD", status: 503, duration: .milliseconds(1))
        metrics.allocationAnswered(titleId: "DEADBEEF", status: 404, duration: .milliseconds(1))
        metrics.handoffFinished(titleId: "1234ABCD", result: .timedOut, duration: .seconds(5))
        metrics.handoffFinished(titleId: "1234ABCD", result: .acknowledged, duration: .milliseconds(2))
        let parsed = try await PrometheusTextParser.parse(Self.text(metrics.metrics.exposition()))
        #expect(parsed.value("gsms_allocations_total", ["title_id": "1234ABCD", "result": "200"]) == 1)
        #expect(parsed.value("gsms_allocations_total", ["title_id": "1234ABCD", "result": "503"]) == 1)
        #expect(parsed.value("gsms_allocations_total", ["title_id": "", "result": "404"]) == 1)
        #expect(parsed.samples("gsms_allocations_total", ["title_id": "DEADBEEF"]).isEmpty)
        #expect(parsed.value("gsms_allocation_duration_seconds_count", ["title_id": "1234ABCD"]) == 1)
        #expect(parsed.value("gsms_allocation_duration_seconds_bucket", ["title_id": "1234ABCD", "le": "0.0025"]) == 0)
        #expect(parsed.value("gsms_allocation_duration_seconds_bucket", ["title_id": "1234ABCD", "le": "0.005"]) == 1)
        #expect(parsed.value("gsms_allocation_duration_seconds_sum", ["title_id": "1234ABCD"]) == 0.003)
        #expect(parsed.value("gsms_handoffs_total", ["title_id": "1234ABCD", "result": "timed_out"]) == 1)
        #expect(parsed.value("gsms_handoff_duration_seconds_count", ["title_id": "1234ABCD"]) == 1)
    }
}
