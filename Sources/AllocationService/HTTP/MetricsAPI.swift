import AllocationStore
import Hummingbird
import Logging
import SessionHostMetrics

/// `GET /metrics`: gsmsd's metrics in the Prometheus text format, on the API listener, without
/// authentication (they hold counts and latencies, no ids or secrets). Where the listener is
/// reachable from outside, keep `/metrics` off the public route at the proxy.
struct MetricsAPI: Sendable {
    let metrics: GSMSMetrics
    let store: any InventoryStore
    let channels: HandoffChannels
    let logger: Logger

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("metrics") { _, _ in
            let known = (up: channels.hostsPolling(), down: channels.unreachableHosts().count)
            let body = await metrics.scrape(store: store, channels: known, logger: logger)
            return Response(
                status: .ok, headers: [.contentType: MetricsRegistry.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        MethodNotAllowed.register(on: router, path: "metrics", allowed: [.get])
    }
}
