import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Serves `GSDKAPI` as HTTP/1.1 on a loopback TCP address, then writes the GSDK config file
/// naming the port it bound. Keep-alive connections (the C++ SDK reuses one) are served one
/// request after the other; `Expect: 100-continue` is answered; bodies are limited to 64 KiB.
/// On graceful shutdown it stops accepting, lets answers in flight finish and closes.
public struct GSDKListener: Service {
    public let settings: GSDKSettings
    public let api: GSDKAPI
    public let identity: HostIdentity
    public let eventLoopGroup: any EventLoopGroup
    public let logger: Logger
    public let drainTimeout: Duration
    /// How long a connection may stay idle, or take to send a request, before it is closed.
    public let idleTimeout: Duration
    /// Called with the bound port once the config file is written.
    public let onListening: @Sendable (Int) async -> Void

    public init(
        settings: GSDKSettings, api: GSDKAPI, identity: HostIdentity, eventLoopGroup: any EventLoopGroup, logger: Logger,
        drainTimeout: Duration = .seconds(5), idleTimeout: Duration = .seconds(75),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.settings = settings
        self.api = api
        self.identity = identity
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.drainTimeout = drainTimeout
        self.idleTimeout = idleTimeout
        self.onListening = onListening
    }

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    public func run() async throws {
        let server: NIOAsyncChannel<Connection, Never>
        do {
            server = try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: settings.host, port: settings.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw AgentError(
                status: 500, code: "GSDKListenFailed",
                message: "cannot listen for GSDK game servers on \(GSDKSettings.endpoint(host: settings.host, port: settings.port)): \(error)")
        }
        let port = server.channel.localAddress?.port ?? settings.port
        let endpoint = GSDKSettings.endpoint(host: settings.host, port: port)
        do {
            try GSDKConfigFile(sessionHostId: api.frontEnd.sessionHostId, identity: identity, endpoint: endpoint, settings: settings)
                .write(to: settings.configFilePath)
        } catch {
            try? await server.channel.close()
            throw error
        }
        logger.info("serving GSDK game servers", metadata: ["endpoint": "\(endpoint)", "config_file": "\(settings.configFilePath)"])
        await onListening(port)

        let connections = ConnectionTracker(idleTimeout: idleTimeout)
        let stopping = OneShotSignal()
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await handle(connection, connections: connections, stopping: stopping) }
                    }
                }
                connections.closeIdle()
                if await !connections.waitUntilClosed(timeout: drainTimeout) {
                    group.cancelAll()
                }
            }
        } onGracefulShutdown: {
            stopping.fire()
            server.channel.close(promise: nil)
        }
    }

    private func handle(_ connection: Connection, connections: ConnectionTracker, stopping: OneShotSignal) async {
        let id = connections.add(connection.channel)
        defer { connections.remove(id) }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var parts = inbound.makeAsyncIterator()
                while let part = try await parts.next() {
                    guard case .head(let head) = part else { continue }
                    connections.markBusy(id)
                    if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                        try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .continue)))
                    }
                    guard let body = try await HTTPServerExchange.readBody(head: head, parts: &parts) else {
                        let answer = AgentAPI.error(AgentError(
                            status: 413, code: "BodyTooLarge",
                            message: "request bodies are limited to \(AgentAPI.maximumBodyBytes) bytes"))
                        try await Self.write(answer, for: head, keepAlive: false, to: outbound)
                        return
                    }
                    let answer = await api.handle(method: head.method.rawValue, target: head.uri, body: body)
                    let keepAlive = head.isKeepAlive && !stopping.hasFired
                    try await Self.write(answer, for: head, keepAlive: keepAlive, to: outbound)
                    if !keepAlive || !connections.markIdle(id) { return }
                }
            }
        } catch {
            logger.debug("GSDK connection ended", metadata: ["error": "\(error)"])
        }
    }

    private static func write(
        _ answer: AgentResponse, for head: HTTPRequestHead, keepAlive: Bool,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        // GSDKAPI answers JSON documents only, never streams.
        guard case .json(let status, let body, let extra) = answer else { return }
        try await HTTPServerExchange.writeJSON(
            status: status, body: body, headers: extra, contentType: "application/json; charset=utf-8",
            for: head, keepAlive: keepAlive, to: outbound)
    }
}
