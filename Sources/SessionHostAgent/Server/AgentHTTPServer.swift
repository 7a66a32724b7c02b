#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Where the agent listens: a path it binds itself, or a socket systemd passed to it.
public enum ListenTarget: Sendable, Equatable {
    case path(String)
    case inheritedDescriptor(Int32)
}

/// Serves `GameSocketAPI` as HTTP/1.1 on a Unix stream socket, one task per connection. It checks
/// every connection's peer credentials, limits bodies to 64 KiB, closes connections idle or
/// sending a request for longer than `idleTimeout`, and holds long polls and event streams
/// without threads of their own. On graceful shutdown it stops accepting and drains:
/// every client gets a complete answer (see `run()`), so a restart under socket activation
/// (an upgrade) cuts no request of a game server.
public struct AgentHTTPServer: Service {
    public let target: ListenTarget
    public let api: GameSocketAPI
    public let eventLoopGroup: any EventLoopGroup
    public let logger: Logger
    /// Called once the socket accepts connections.
    public let onListening: @Sendable () async -> Void
    /// On shutdown, how long requests in flight may take to finish before their connections are cut.
    public let drainTimeout: Duration
    /// How long a connection may wait for its next request, or take to send one, before it is
    /// closed. Answers being prepared, held polls and event streams are never cut.
    public let idleTimeout: Duration

    public init(
        target: ListenTarget, api: GameSocketAPI, eventLoopGroup: any EventLoopGroup, logger: Logger,
        drainTimeout: Duration = .seconds(5), idleTimeout: Duration = .seconds(75),
        onListening: @escaping @Sendable () async -> Void = {}
    ) {
        self.target = target
        self.api = api
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.drainTimeout = drainTimeout
        self.idleTimeout = idleTimeout
        self.onListening = onListening
    }

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    public func run() async throws {
        let server: NIOAsyncChannel<(Connection, PeerCredentials), Never>
        do {
            server = try await bind()
        } catch {
            throw AgentError(
                status: 500, code: "SocketBindFailed",
                message: "cannot listen on \(describeTarget()): \(SocketErrorDescription.describe(error))")
        }
        if case .path(let path) = target {
            chmod(path, 0o660)
        }
        logger.info("serving the agent API", metadata: ["socket": "\(describeTarget())"])
        await onListening()

        let stopping = api.stopping
        let connections = ConnectionTracker(idleTimeout: idleTimeout)
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await (connection, peer) in inbound {
                        group.addTask {
                            await handle(connection, peer: peer, connections: connections)
                        }
                    }
                }
                // The listening socket is closed. A socket from systemd stays open in systemd,
                // so new connections wait in its backlog for the next agent process. Drain this
                // one's connections: long polls and event streams answer and end now, requests
                // in flight finish, every connection closes after its current answer, idle
                // keep-alive connections close at once.
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
        if case .path(let path) = target {
            unlink(path)
        }
    }

    private func describeTarget() -> String {
        switch target {
        case .path(let path): path
        case .inheritedDescriptor(let fd): "descriptor \(fd) from systemd"
        }
    }

    private func bind() async throws -> NIOAsyncChannel<(Connection, PeerCredentials), Never> {
        let bootstrap = ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<(Connection, PeerCredentials)> = { channel in
            Self.peerCredentials(of: channel).flatMapThrowing { peer in
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                let connection = try Connection(wrappingChannelSynchronously: channel)
                return (connection, peer)
            }
        }
        switch target {
        case .path(let path):
            return try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
        case .inheritedDescriptor(let descriptor):
            return try await bootstrap.bind(descriptor, childChannelInitializer: initializer)
        }
    }

    /// Reads `SO_PEERCRED` and `SO_PEERGROUPS`; a peer whose credentials cannot be read gets the
    /// ids of nobody, which no policy allows by default.
    static func peerCredentials(of channel: any Channel) -> EventLoopFuture<PeerCredentials> {
        let nobody = PeerCredentials(pid: 0, uid: 65534, gid: 65534)
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nobody)
        }
        let credentials: EventLoopFuture<PeerCredentialsStruct> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        let groups: EventLoopFuture<PeerGroupList> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERGROUPS))
        return credentials.and(groups.recover { _ in PeerGroupList() }).map { credentials, groups in
            PeerCredentials(pid: credentials.pid, uid: credentials.uid, gid: credentials.gid, supplementaryGroups: groups.ids)
        }.recover { _ in nobody }
    }

    // MARK: One connection

    private func handle(_ connection: Connection, peer: PeerCredentials, connections: ConnectionTracker) async {
        let id = connections.add(connection.channel)
        defer { connections.remove(id) }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var parts = inbound.makeAsyncIterator()
                while let part = try await parts.next() {
                    guard case .head(let head) = part else { continue }
                    connections.markReading(id)
                    guard let body = try await HTTPServerExchange.readBody(head: head, parts: &parts) else {
                        let answer = GameSocketAPI.error(AgentError(
                            status: 413, code: "BodyTooLarge",
                            message: "request bodies are limited to \(GameSocketAPI.maximumBodyBytes) bytes"))
                        try await write(answer, for: head, keepAlive: false, to: outbound)
                        return
                    }
                    connections.markBusy(id)
                    let request = AgentRequest(method: head.method.rawValue, target: head.uri, body: body, peer: peer)
                    let answer = await api.handle(request)
                    // While stopping, each connection closes after its answer.
                    let keepAlive = head.isKeepAlive && answer.status != 403 && !api.stopping.hasFired
                    try await write(answer, for: head, keepAlive: keepAlive, to: outbound)
                    if !keepAlive { return }
                    // Idle until the next request; false when the drain has begun meanwhile.
                    if !connections.markIdle(id) { return }
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)", "peer_uid": "\(peer.uid)"])
        }
    }

    private func write(
        _ answer: AgentResponse,
        for head: HTTPRequestHead,
        keepAlive: Bool,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        switch answer {
        case .json(let status, let body, let extra):
            try await HTTPServerExchange.writeJSON(
                status: status, body: body, headers: extra, for: head, keepAlive: keepAlive, to: outbound)
        case .stream(let contentType, let lines):
            var headers = HTTPHeaders()
            headers.add(name: "Cache-Control", value: "no-store")
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            headers.add(name: "Content-Type", value: contentType)
            try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers)))
            for await line in lines {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: line))))
            }
            try await outbound.write(.end(nil))
        }
    }
}

/// The layout of Linux's `struct ucred` (which Swift's Glibc module leaves out without _GNU_SOURCE).
struct PeerCredentialsStruct: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// Room for the supplementary groups `SO_PEERGROUPS` reports (more than any game server has).
struct PeerGroupList: Sendable {
    var storage = InlineArray<64, gid_t>(repeating: 0)

    /// The reported groups; root's group 0 is left out because unused slots are 0 too.
    var ids: [UInt32] {
        var result: [UInt32] = []
        for index in storage.indices where storage[index] != 0 {
            result.append(storage[index])
        }
        return result
    }
}
