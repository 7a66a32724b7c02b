import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Serves `GSDKAPI` as HTTP/1.1 on a loopback TCP address, then writes the GSDK config file
/// naming the port it bound. Before it binds, the front end loads what it kept in the state
/// directory (`GSDKFrontEnd.open`); for port 0 the port the kernel picked is saved there and
/// bound again at later starts while the config file still names it, since a running game
/// server keeps heartbeating the port its config file named (a config file gone with the
/// runtime directory means a reboot: no game server knows the port, and a new one is picked).
/// Keep-alive connections (the C++ SDK reuses one)
/// are served one request after the other; `Expect: 100-continue` is answered; bodies are
/// limited to 64 KiB. On graceful shutdown it stops accepting, lets answers in flight finish and
/// closes.
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
        let store = settings.stateDirectory.map { GSDKStateStore(directory: $0) }
        var kept: Int?
        if let store {
            let saved = try await api.frontEnd.open(store)
            if settings.port == 0, saved.listenHost == settings.host, let port = saved.listenPort, (1...65535).contains(port) {
                let endpoint = GSDKSettings.endpoint(host: settings.host, port: port)
                if GSDKConfigFile.endpoint(inFileAt: settings.configFilePath) == endpoint {
                    kept = port
                } else {
                    logger.info(
                        "the GSDK config file no longer names the port kept from an earlier start: no game server can know it, a new one is picked",
                        metadata: ["endpoint": "\(endpoint)", "config_file": "\(settings.configFilePath)"])
                }
            }
        }
        if settings.createsLogFolder {
            try GSDKConfigFile.prepareLogFolder(settings.logFolder)
        }
        let server: NIOAsyncChannel<Connection, Never>
        do {
            server = try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: settings.host, port: kept ?? settings.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            if let kept, let store {
                let endpoint = GSDKSettings.endpoint(host: settings.host, port: kept)
                throw AgentError(
                    status: 500, code: "GSDKPortUnavailable",
                    message: "cannot listen for GSDK game servers on \(endpoint), the port picked for --gsdk-listen "
                        + "\(GSDKSettings.endpoint(host: settings.host, port: 0)) at an earlier start and kept in \(store.path) "
                        + "because running game servers heartbeat the port their config file names: \(SocketErrorDescription.describe(error)). "
                        + "Free the port, or give --gsdk-listen a fixed port, or delete \(store.path) to pick a new one "
                        + "(then restart the game servers)")
            }
            throw AgentError(
                status: 500, code: "GSDKListenFailed",
                message: "cannot listen for GSDK game servers on \(GSDKSettings.endpoint(host: settings.host, port: settings.port)): \(SocketErrorDescription.describe(error))")
        }
        let port = server.channel.localAddress?.port ?? kept ?? settings.port
        let endpoint = GSDKSettings.endpoint(host: settings.host, port: port)
        do {
            // Saved before the config file names it: no game server ever reads a port the next
            // start would not bind again.
            if settings.port == 0, kept != port {
                try await api.frontEnd.keepListenPort(host: settings.host, port: port)
            }
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
                        let answer = GameSocketAPI.error(AgentError(
                            status: 413, code: "BodyTooLarge",
                            message: "request bodies are limited to \(GameSocketAPI.maximumBodyBytes) bytes"))
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
