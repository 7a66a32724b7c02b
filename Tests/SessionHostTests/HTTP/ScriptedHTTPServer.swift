import NIOCore
import NIOHTTP1
import NIOPosix
import SessionHostHTTP
import Synchronization

/// A small HTTP/1.1 server in the test process whose answers a test scripts: it counts
/// connections and requests, and can close connections, hold requests or stream answers, so the
/// client's tests wait for events rather than time.
final class ScriptedHTTPServer: Sendable {
    /// One request as it arrived.
    struct Request: Sendable {
        var method: HTTPMethod
        var path: String
        var headers: HTTPHeaders
        var body: [UInt8]
        /// 1 for the first connection accepted, 2 for the next…
        var connection: Int
        /// 1 for a connection's first request, 2 for the next…
        var number: Int
    }

    typealias Writer = NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    /// Answers one request; returns `false` to close the connection.
    typealias Script = @Sendable (Request, Writer) async throws -> Bool

    private typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// Where clients connect.
    let address: HTTPClientAddress
    private let server: NIOAsyncChannel<Connection, Never>
    private let serving: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let state = Mutex<(connections: Int, requests: [Request], channels: [ObjectIdentifier: any Channel])>(
        (0, [], [:]))

    /// Listens on `address` (`.tcp` with port 0 picks a free port) and answers with `script`.
    init(_ address: HTTPClientAddress, script: @escaping Script) async throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Connection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                return try Connection(wrappingChannelSynchronously: channel)
            }
        }
        switch address {
        case .tcp(let host, let port):
            server = try await bootstrap.bind(host: host, port: port, childChannelInitializer: initializer)
            self.address = .tcp(host: host, port: server.channel.localAddress?.port ?? port)
        case .unix(let path):
            server = try await bootstrap.bind(
                unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
            self.address = address
        }
        let server = self.server
        let task = Task<Void, Never> {
            try? await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection, script: script) }
                    }
                }
            }
        }
        serving.withLock { $0 = task }
    }

    /// Connections that carried requests so far (one given up before sending anything, as a
    /// connect attempt that timed out on a loaded machine, is not counted).
    var connectionCount: Int { state.withLock { Set($0.requests.map(\.connection)).count } }
    /// Requests received so far, in order.
    var requests: [Request] { state.withLock { $0.requests } }

    /// Closes every open connection (as a server closes idle ones).
    func closeConnections() async {
        let channels = state.withLock { Array($0.channels.values) }
        for channel in channels { try? await channel.close() }
    }

    /// Stops listening and ends every connection.
    func stop() async {
        try? await server.channel.close()
        await closeConnections()
        let task = serving.withLock { $0 }
        task?.cancel()
        await task?.value
    }

    /// Answers `status` with `body` (and a `Content-Length`).
    static func answer(_ writer: Writer, _ status: HTTPResponseStatus = .ok, body: [UInt8] = [], close: Bool = false)
        async throws
    {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: String(body.count))
        if close { headers.add(name: "Connection", value: "close") }
        try await writer.write(contentsOf: [
            .head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)),
            .body(.byteBuffer(ByteBuffer(bytes: body))), .end(nil),
        ])
    }

    private func serve(_ connection: Connection, script: Script) async {
        let channel = connection.channel
        let number = state.withLock { state in
            state.connections += 1
            state.channels[ObjectIdentifier(channel)] = channel
            return state.connections
        }
        defer { _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) } }
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            var count = 0
            for try await part in inbound {
                switch part {
                case .head(let received):
                    head = received
                    body = []
                case .body(let buffer):
                    body.append(contentsOf: buffer.readableBytesView)
                case .end:
                    guard let head else { return }
                    count += 1
                    let request = Request(
                        method: head.method, path: head.uri, headers: head.headers, body: body, connection: number,
                        number: count)
                    state.withLock { $0.requests.append(request) }
                    guard try await script(request, outbound) else { return }
                }
            }
        }
    }
}
