import Logging
import NIOCore
import ServiceLifecycle
import SessionHostHTTP
import SessionHostMetrics

/// Serves `GET /metrics` (the Prometheus text format) on a TCP address, for `--metrics-listen`,
/// with `HTTPServer`. One request per connection (`Connection: close`), each connection closed
/// after `connectionTimeout` without a request, so that a silent client holds nothing; other
/// paths get 404, other methods 405. Stops accepting on graceful shutdown. An address that
/// cannot be bound is logged and the agent runs on without metrics.
struct MetricsHTTPServer: Service {
    let address: MetricsListenAddress
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    /// The body of `GET /metrics`, rendered for each scrape.
    let render: @Sendable () async -> [UInt8]
    let connectionTimeout: Duration = .seconds(10)

    enum Endpoint: Sendable {
        case metrics
    }

    static let table = RouteTable<Endpoint>([Route("GET", "/metrics", .metrics), Route("HEAD", "/metrics", .metrics)])

    func run() async throws {
        let address = self.address
        let logger = self.logger
        let render = self.render
        let server = HTTPServer(
            configuration: .init(
                address: .tcp(host: address.host, port: address.port), idleTimeout: connectionTimeout, backlog: 64,
                keepAlive: false),
            eventLoopGroup: eventLoopGroup, logger: logger,
            onListening: { listening in
                logger.info(
                    "serving metrics",
                    metadata: ["address": "\(address.host):\(listening.port ?? address.port)", "path": "/metrics"])
            },
            handler: { request in await Self.respond(to: request, render: render) })
        do {
            try await server.run()
        } catch let error as HTTPListenError {
            // The game matters more than the metrics: keep the agent up without them.
            logger.error(
                "cannot serve metrics; the agent runs without them",
                metadata: ["address": "\(address.host):\(address.port)", "error": "\(error.reason)"])
            try? await gracefulShutdown()
        }
    }

    static func respond(to request: HTTPServerRequest, render: @Sendable () async -> [UInt8]) async
        -> HTTPServerResponse
    {
        let text = "text/plain; charset=utf-8"
        switch table.match(method: request.method, path: request.path) {
        case .notFound:
            return .content(status: 404, contentType: text, body: Array("only /metrics is served here\n".utf8))
        case .methodNotAllowed(let methods):
            return .content(
                status: 405, contentType: text, body: Array("/metrics takes GET\n".utf8),
                headers: [("Allow", RouteMatch<Endpoint>.allowHeader(methods))])
        case .found:
            return .content(status: 200, contentType: MetricsRegistry.contentType, body: await render())
        }
    }
}
