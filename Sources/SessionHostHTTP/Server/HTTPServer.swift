#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// An HTTP/1.1 server on a Unix socket, an inherited descriptor or TCP, one task per connection:
/// it hands each complete request to `handler` and writes its answer.
///
/// - On Unix sockets every connection's peer credentials (`SO_PEERCRED`, `SO_PEERGROUPS`) reach
///   the handler in `HTTPServerRequest.peer`.
/// - Bodies over `bodyLimit` get 413 `BodyTooLarge` and the connection closes; `Expect:
///   100-continue` is answered before the body is read.
/// - A connection that waits for its next request, or takes to send one, longer than
///   `idleTimeout` is closed; answers being prepared, held polls and streams are never cut.
/// - On graceful shutdown, or when `stopping` fires, it stops accepting and drains: `stopping`
///   fires (held polls and streams should answer and end on it), answers in flight finish, every
///   connection closes after its current answer, idle ones at once; after `drainTimeout` the
///   rest are cut.
public struct HTTPServer: Service {
    /// How the server listens and treats connections.
    public struct Configuration: Sendable {
        public var address: HTTPListenAddress
        /// The largest request body, in bytes.
        public var bodyLimit: Int
        /// How long a connection may wait for its next request, or take to send one.
        public var idleTimeout: Duration
        /// On shutdown, how long answers in flight may take before their connections are cut.
        public var drainTimeout: Duration
        public var backlog: Int32
        /// Whether connections serve more than one request (HTTP keep-alive).
        public var keepAlive: Bool
        /// Answers with these statuses close their connection (e.g. 403 for a peer not allowed).
        public var closingStatuses: Set<Int>
        /// The `Content-Type` of `HTTPServerResponse.json` answers.
        public var jsonContentType: String

        public init(
            address: HTTPListenAddress, bodyLimit: Int = HTTPLimits.defaultBodyLimit,
            idleTimeout: Duration = .seconds(75),
            drainTimeout: Duration = .seconds(5), backlog: Int32 = 256, keepAlive: Bool = true,
            closingStatuses: Set<Int> = [], jsonContentType: String = "application/json"
        ) {
            self.address = address
            self.bodyLimit = bodyLimit
            self.idleTimeout = idleTimeout
            self.drainTimeout = drainTimeout
            self.backlog = backlog
            self.keepAlive = keepAlive
            self.closingStatuses = closingStatuses
            self.jsonContentType = jsonContentType
        }
    }

    /// Answers one request.
    public typealias Handler = @Sendable (HTTPServerRequest) async -> HTTPServerResponse

    public let configuration: Configuration
    public let eventLoopGroup: any EventLoopGroup
    public let logger: Logger
    /// Fired when the server begins to drain; firing it from outside stops the server too.
    public let stopping: OneShotSignal
    public let handler: Handler
    /// Called once the socket accepts connections; when it throws, the server closes and `run()`
    /// throws that error.
    public let onListening: @Sendable (HTTPListening) async throws -> Void

    public init(
        configuration: Configuration, eventLoopGroup: any EventLoopGroup,
        logger: Logger = Logger(label: "SessionHostHTTP", factory: { _ in SwiftLogNoOpLogHandler() }),
        stopping: OneShotSignal = OneShotSignal(),
        onListening: @escaping @Sendable (HTTPListening) async throws -> Void = { _ in },
        handler: @escaping Handler
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.stopping = stopping
        self.onListening = onListening
        self.handler = handler
    }

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    typealias Listener = NIOAsyncChannel<(Connection, PeerCredentials?), Never>

    /// Listens, serves until graceful shutdown (or `stopping`), drains, and returns. Throws
    /// `HTTPListenError` when it cannot listen.
    public func run() async throws {
        let address = configuration.address
        let server: Listener
        do {
            server = try await bind()
        } catch {
            throw HTTPListenError(address: address, error: error)
        }
        if case .unixSocket(let path, let mode) = address {
            chmod(path, mode_t(mode))
        }
        defer {
            if case .unixSocket(let path, _) = address { unlink(path) }
        }
        do {
            try await onListening(
                HTTPListening(address: address, port: address.isUnix ? nil : server.channel.localAddress?.port))
        } catch {
            try? await server.channel.close()
            throw error
        }

        let stopping = self.stopping
        let drainTimeout = configuration.drainTimeout
        let connections = ConnectionTracker(idleTimeout: configuration.idleTimeout)
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    await stopping.wait()
                    server.channel.close(promise: nil)
                }
                try await server.executeThenClose { inbound in
                    for try await (connection, peer) in inbound {
                        group.addTask {
                            await handle(connection, peer: peer, connections: connections)
                        }
                    }
                }
                // The listening socket is closed. A socket from systemd stays open in systemd,
                // so new connections wait in its backlog for the next process. Drain this one's
                // connections: long polls and streams answer and end now, requests in flight
                // finish, every connection closes after its current answer, idle keep-alive
                // connections close at once.
                stopping.fire()
                connections.closeIdle()
                if await !connections.waitUntilClosed(timeout: drainTimeout) {
                    logger.warning(
                        "connections still open after the drain timeout are cut",
                        metadata: ["timeout": "\(drainTimeout)", "connections": "\(connections.count)"])
                    group.cancelAll()
                }
            }
        } onGracefulShutdown: {
            stopping.fire()
            server.channel.close(promise: nil)
        }
    }

    private func bind() async throws -> Listener {
        let bootstrap = ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: configuration.backlog)
        let unix: @Sendable (any Channel) -> EventLoopFuture<(Connection, PeerCredentials?)> = { channel in
            PeerCredentials.read(from: channel).flatMapThrowing { peer in
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                return (try Connection(wrappingChannelSynchronously: channel), peer)
            }
        }
        switch configuration.address {
        case .unixSocket(let path, _):
            return try await bootstrap.bind(
                unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: unix)
        case .inheritedDescriptor(let descriptor):
            return try await bootstrap.bind(descriptor, childChannelInitializer: unix)
        case .tcp(let host, let port):
            return
                try await bootstrap
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        return (try Connection(wrappingChannelSynchronously: channel), nil)
                    }
                }
        }
    }

    // MARK: One connection

    private func handle(_ connection: Connection, peer: PeerCredentials?, connections: ConnectionTracker) async {
        let id = connections.add(connection.channel)
        defer { connections.remove(id) }
        let limit = configuration.bodyLimit
        let jsonContentType = configuration.jsonContentType
        do {
            try await connection.executeThenClose { inbound, outbound in
                var parts = inbound.makeAsyncIterator()
                while let part = try await parts.next() {
                    guard case .head(let head) = part else { continue }
                    connections.markReading(id)
                    if !HTTPServerExchange.declaresTooLarge(head, limit: limit),
                        HTTPServerExchange.expectsContinue(head)
                    {
                        try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .continue)))
                    }
                    guard let body = try await HTTPServerExchange.readBody(head: head, parts: &parts, limit: limit)
                    else {
                        try await HTTPServerExchange.write(
                            HTTPErrorEnvelope.bodyTooLarge(limit: limit), for: head, keepAlive: false,
                            jsonContentType: jsonContentType, to: outbound)
                        return
                    }
                    connections.markBusy(id)
                    let request = HTTPServerRequest(
                        method: head.method.rawValue, target: head.uri, headers: head.headers, body: body, peer: peer)
                    let answer = await handler(request)
                    // While stopping, each connection closes after its answer.
                    let keepAlive =
                        configuration.keepAlive && head.isKeepAlive
                        && !configuration.closingStatuses.contains(answer.status) && !stopping.hasFired
                    try await HTTPServerExchange.write(
                        answer, for: head, keepAlive: keepAlive, jsonContentType: jsonContentType, to: outbound)
                    if !keepAlive { return }
                    // Idle until the next request; false when the drain has begun meanwhile.
                    if !connections.markIdle(id) { return }
                }
            }
        } catch {
            logger.debug(
                "connection ended", metadata: ["error": "\(error)", "peer_uid": "\(peer.map { "\($0.uid)" } ?? "-")"])
        }
    }
}
