import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import SessionHostMetrics

/// Serves `GET /metrics` (the Prometheus text format) on a TCP address, for `--metrics-listen`.
/// One request per connection (`Connection: close`), each connection bounded by
/// `connectionTimeout`, so that a silent client holds nothing; other paths get 404, other
/// methods 405. Stops accepting on graceful shutdown. An address that cannot be bound is
/// logged and the agent runs on without metrics.
struct MetricsHTTPServer: Service {
    let address: MetricsListenAddress
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    /// The body of `GET /metrics`, rendered for each scrape.
    let render: @Sendable () async -> [UInt8]
    let connectionTimeout: Duration = .seconds(10)

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    func run() async throws {
        let server: NIOAsyncChannel<Connection, Never>
        do {
            server = try await bind()
        } catch {
            // The game matters more than the metrics: keep the agent up without them.
            logger.error(
                "cannot serve metrics; the agent runs without them",
                metadata: ["address": "\(address.host):\(address.port)", "error": "\(SocketErrorDescription.describe(error))"])
            try? await gracefulShutdown()
            return
        }
        let bound = server.channel.localAddress.map { "\($0.ipAddress ?? address.host):\($0.port ?? address.port)" } ?? "\(address.host):\(address.port)"
        logger.info("serving metrics", metadata: ["address": "\(bound)", "path": "/metrics"])
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
    }

    private func bind() async throws -> NIOAsyncChannel<Connection, Never> {
        try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Answers one request, then closes; gives up after `connectionTimeout`.
    private func serve(_ connection: Connection) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await connection.executeThenClose { inbound, outbound in
                        var parts = inbound.makeAsyncIterator()
                        while let part = try await parts.next() {
                            guard case .head(let head) = part else { continue }
                            // Skip the body, if any, up to the end of the request.
                            while let rest = try await parts.next() {
                                if case .end = rest { break }
                            }
                            try await respond(to: head, outbound: outbound)
                            return
                        }
                    }
                } catch {
                    logger.debug("metrics connection ended", metadata: ["error": "\(error)"])
                }
            }
            group.addTask { try? await Task.sleep(for: connectionTimeout) }
            await group.next()
            group.cancelAll()
            connection.channel.close(promise: nil)
        }
    }

    private func respond(to head: HTTPRequestHead, outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let status: HTTPResponseStatus
        let body: [UInt8]
        var headers = HTTPHeaders()
        if path != "/metrics" {
            status = .notFound
            body = Array("only /metrics is served here\n".utf8)
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        } else if head.method != .GET && head.method != .HEAD {
            status = .methodNotAllowed
            body = Array("/metrics takes GET\n".utf8)
            headers.add(name: "Allow", value: "GET, HEAD")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        } else {
            status = .ok
            body = await render()
            headers.add(name: "Content-Type", value: MetricsRegistry.contentType)
        }
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "Connection", value: "close")
        var parts: [HTTPServerResponsePart] = [.head(HTTPResponseHead(version: head.version, status: status, headers: headers))]
        if head.method != .HEAD { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
        parts.append(.end(nil))
        try await outbound.write(contentsOf: parts)
    }
}
