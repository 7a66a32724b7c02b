import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// An HTTP/1.1 proxy in the test process, between a program under test and its server (gsmsd
/// over TCP, or an agent over its Unix socket). It records every exchange and holds the
/// requests a rule picks until the test releases them, so that a test can stop a conversation
/// at an exact point and wait for what happens next: events, not timing.
final class HTTPRecordingProxy: @unchecked Sendable {
    enum Address: Sendable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    /// One request as it arrived, with its answer once the answer was sent.
    struct Exchange: Sendable, CustomStringConvertible {
        var method: String
        var path: String
        var body: [UInt8]
        var held: Bool
        var status: Int?
        var answer: [UInt8] = []

        /// The request's body.
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The answer's body.
        var answerText: String { String(decoding: answer, as: UTF8.self) }
        var description: String {
            "\(method) \(path) \(text.prefix(200)) -> \(status.map(String.init) ?? (held ? "held" : "pending"))"
        }
    }

    typealias Rule = @Sendable (Exchange) -> Bool
    private typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    let address: Address
    private let upstream: Address
    private let server: NIOAsyncChannel<Connection, Never>
    private var serving: Task<Void, Never>?
    private let lock = NSLock()
    private var log: [Exchange] = []
    private var holdRule: Rule?
    private var held: [Int: CheckedContinuation<Bool, Never>] = [:]
    private var released: Set<Int> = []
    private var waiters:
        [UUID: (condition: @Sendable ([Exchange]) -> Bool, continuation: CheckedContinuation<Bool, Never>)] = [:]
    private var cancelledWaiters: Set<UUID> = []
    private var stopped = false
    private var accepted: [any Channel] = []
    private var carriers: Set<ObjectIdentifier> = []

    /// Listens on `listen` (`.tcp` with port 0 picks a free port) and forwards to `upstream`.
    init(listen: Address, upstream: Address) async throws {
        self.upstream = upstream
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Connection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                return try Connection(wrappingChannelSynchronously: channel)
            }
        }
        switch listen {
        case .tcp(let host, let port):
            server = try await bootstrap.bind(host: host, port: port, childChannelInitializer: initializer)
            address = .tcp(host: host, port: server.channel.localAddress?.port ?? port)
        case .unix(let path):
            server = try await bootstrap.bind(
                unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
            address = listen
        }
        let server = self.server
        serving = Task {
            try? await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
                group.cancelAll()
            }
        }
    }

    /// `http://host:port` of a TCP proxy.
    var url: String {
        switch address {
        case .tcp(let host, let port): "http://\(host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }

    /// Every exchange so far, in the order the requests arrived.
    var exchanges: [Exchange] { lock.withLock { log } }

    /// How many connections carried requests so far. A connection a client opened and gave up
    /// before sending anything (its connect attempt timed out on a loaded machine) is not counted.
    var connectionCount: Int { lock.withLock { carriers.count } }

    /// Closes the connections clients opened, as a server closes idle keep-alive connections.
    func closeConnections() async {
        for channel in lock.withLock({ accepted }) {
            try? await channel.close()
        }
    }

    /// From now on, requests for which `rule` holds wait until `release()` (or are never
    /// forwarded, when the proxy stops first); `nil` forwards everything.
    func hold(_ rule: Rule?) {
        lock.withLock { holdRule = rule }
    }

    /// Forwards the requests held so far.
    func release() {
        let continuations = lock.withLock { () -> [CheckedContinuation<Bool, Never>] in
            for index in log.indices where log[index].held { released.insert(index) }
            defer { held.removeAll() }
            return Array(held.values)
        }
        for continuation in continuations { continuation.resume(returning: true) }
    }

    /// Waits until `condition` holds for the exchanges, failing after `timeout`.
    func waitUntil(
        _ description: String, timeout: Duration = .seconds(30), _ condition: @escaping @Sendable ([Exchange]) -> Bool
    ) async throws {
        let id = UUID()
        let satisfied = (try? await Deadline.within(timeout, description) { await self.wait(id, condition) }) ?? false
        guard satisfied else {
            throw TestFailure(
                "\(description) did not happen within \(timeout); exchanges:\n"
                    + exchanges.map(\.description).joined(separator: "\n"))
        }
    }

    /// Stops listening and ends every connection; held requests are never forwarded.
    func stop() async {
        let (continuations, pending) = lock.withLock {
            () -> ([CheckedContinuation<Bool, Never>], [CheckedContinuation<Bool, Never>]) in
            stopped = true
            defer {
                held.removeAll()
                waiters.removeAll()
            }
            return (Array(held.values), waiters.values.map(\.continuation))
        }
        for continuation in continuations { continuation.resume(returning: false) }
        for continuation in pending { continuation.resume(returning: false) }
        try? await server.channel.close()
        serving?.cancel()
        await serving?.value
        if case .unix(let path) = address { unlink(path) }
    }

    // MARK: Waiting

    private func wait(_ id: UUID, _ condition: @escaping @Sendable ([Exchange]) -> Bool) async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let answer: Bool? = lock.withLock {
                    if condition(log) { return true }
                    if stopped || cancelledWaiters.contains(id) { return false }
                    waiters[id] = (condition, continuation)
                    return nil
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            let continuation = lock.withLock { () -> CheckedContinuation<Bool, Never>? in
                cancelledWaiters.insert(id)
                return waiters.removeValue(forKey: id)?.continuation
            }
            continuation?.resume(returning: false)
        }
    }

    /// Changes the log and wakes the waiters whose condition now holds.
    private func update(_ change: (inout [Exchange]) -> Void) {
        let woken = lock.withLock { () -> [CheckedContinuation<Bool, Never>] in
            change(&log)
            let ready = waiters.filter { $0.value.condition(log) }
            for id in ready.keys { waiters[id] = nil }
            return ready.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume(returning: true) }
    }

    // MARK: Serving

    private func serve(_ connection: Connection) async {
        lock.withLock { accepted.append(connection.channel) }
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body = []
                    _ = lock.withLock { carriers.insert(ObjectIdentifier(connection.channel)) }
                case .body(let buffer):
                    body.append(contentsOf: buffer.readableBytesView)
                case .end:
                    guard let requestHead = head else { return }
                    guard let answer = try await exchange(requestHead, body: body) else { return }
                    var headers = Self.endToEnd(answer.headers)
                    headers.add(name: "Content-Length", value: String(answer.body.count))
                    if !requestHead.isKeepAlive { headers.add(name: "Connection", value: "close") }
                    try await outbound.write(contentsOf: [
                        .head(
                            HTTPResponseHead(
                                version: requestHead.version, status: HTTPResponseStatus(statusCode: answer.status),
                                headers: headers)),
                        .body(.byteBuffer(ByteBuffer(bytes: answer.body))),
                        .end(nil),
                    ])
                    update { log in
                        log[answer.index].status = answer.status
                        log[answer.index].answer = answer.body
                    }
                    if !requestHead.isKeepAlive { return }
                }
            }
        }
    }

    private struct Answer {
        var index: Int
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    /// The headers that are not about one connection (those the proxy sets itself).
    private static func endToEnd(_ headers: HTTPHeaders) -> HTTPHeaders {
        var kept = HTTPHeaders()
        for (name, value) in headers
        where !["connection", "content-length", "transfer-encoding", "keep-alive"].contains(name.lowercased()) {
            kept.add(name: name, value: value)
        }
        return kept
    }

    /// Records the request, holds it if the rule says so, and forwards it; `nil` when it is
    /// never to be forwarded.
    private func exchange(_ head: HTTPRequestHead, body: [UInt8]) async throws -> Answer? {
        var exchange = Exchange(method: head.method.rawValue, path: head.uri, body: body, held: false)
        var index = 0
        update { log in
            exchange.held = holdRule?(exchange) ?? false
            index = log.count
            log.append(exchange)
        }
        if exchange.held {
            let forward = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let decided: Bool? = lock.withLock {
                    if released.contains(index) { return true }
                    if stopped { return false }
                    held[index] = continuation
                    return nil
                }
                if let decided { continuation.resume(returning: decided) }
            }
            guard forward else { return nil }
        }
        let (status, headers, answerBody) = try await forward(head, body: body)
        return Answer(index: index, status: status, headers: headers, body: answerBody)
    }

    private typealias Upstream = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    /// Sends the request upstream on a new connection and reads the whole answer.
    private func forward(_ head: HTTPRequestHead, body: [UInt8]) async throws -> (Int, HTTPHeaders, [UInt8]) {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Upstream> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                return try Upstream(wrappingChannelSynchronously: channel)
            }
        }
        let connection: Upstream
        switch upstream {
        case .tcp(let host, let port):
            connection = try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
        case .unix(let path):
            connection = try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
        }
        return try await connection.executeThenClose { inbound, outbound in
            var headers = Self.endToEnd(head.headers)
            headers.add(name: "Connection", value: "close")
            headers.add(name: "Content-Length", value: String(body.count))
            try await outbound.write(contentsOf: [
                .head(HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: headers)),
                .body(.byteBuffer(ByteBuffer(bytes: body))),
                .end(nil),
            ])
            var status = 0
            var answerHeaders = HTTPHeaders()
            var collected: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let responseHead):
                    status = Int(responseHead.status.code)
                    answerHeaders = responseHead.headers
                case .body(let buffer):
                    collected.append(contentsOf: buffer.readableBytesView)
                case .end:
                    return (status, answerHeaders, collected)
                }
            }
            throw TestFailure("the upstream server closed the connection before answering \(head.method) \(head.uri)")
        }
    }
}
