import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 client over a Unix stream socket: one connection per request.
struct UnixSocketHTTPClient: Sendable {
    let socketPath: String

    struct Response: Sendable {
        var status: Int
        var body: [UInt8]
    }

    typealias Connection = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    /// Sends one request and reads the whole answer.
    func send(method: HTTPMethod, path: String, body: [UInt8]? = nil) async throws -> Response {
        let connection = try await connect()
        return try await connection.executeThenClose { inbound, outbound in
            try await write(method: method, path: path, body: body, to: outbound)
            var status = 0
            var collected: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let head):
                    status = Int(head.status.code)
                case .body(let buffer):
                    collected.append(contentsOf: buffer.readableBytesView)
                case .end:
                    return Response(status: status, body: collected)
                }
            }
            throw AgentClientError(status: nil, code: "InvalidAnswer", message: "the agent closed the connection before answering")
        }
    }

    /// Sends one request and hands each line of a streamed answer to `onLine`; returns the
    /// status and, for a non-200 answer, the body.
    func stream(path: String, onLine: @Sendable ([UInt8]) async throws -> Void) async throws -> Response {
        let connection = try await connect()
        return try await connection.executeThenClose { inbound, outbound in
            try await write(method: .GET, path: path, body: nil, to: outbound)
            var status = 0
            var pending: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let head):
                    status = Int(head.status.code)
                case .body(let buffer):
                    pending.append(contentsOf: buffer.readableBytesView)
                    guard status == 200 else { continue }
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = Array(pending[..<newline])
                        pending.removeSubrange(...newline)
                        if !line.isEmpty { try await onLine(line) }
                    }
                case .end:
                    return Response(status: status, body: pending)
                }
            }
            return Response(status: status, body: pending)
        }
    }

    private func connect() async throws -> Connection {
        do {
            return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: socketPath) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw AgentClientError(status: nil, code: "AgentUnreachable", message: Self.connectFailure(error, socketPath: socketPath))
        }
    }

    /// Why the agent's socket could not be reached, and what to do, in words (not the
    /// system call that failed).
    static func connectFailure(_ error: any Error, socketPath: String) -> String {
        let errno = (error as? IOError)?.errnoCode
        switch errno {
        case ENOENT, ENOTDIR:
            return "there is no agent socket at \(socketPath): is sessionhostd running? If it listens elsewhere, give --socket or set SESSIONHOST_SOCKET"
        case EACCES, EPERM:
            return "permission denied on \(socketPath): run as the agent's user or root, or as a member of the socket's group (sessionhost; `usermod -aG sessionhost USER`)"
        case ECONNREFUSED:
            return "nothing answers on \(socketPath) (a socket file left behind): is sessionhostd running? `systemctl status sessionhostd`"
        case ENOTSOCK:
            return "\(socketPath) is not a socket: give --socket the agent's socket (default /run/sessionhost/agent.sock)"
        case EAGAIN:
            return "the agent at \(socketPath) is too busy to take the connection; try again"
        default:
            return "cannot connect to the agent at \(socketPath): \(describe(error)). Is sessionhostd running, and is this user in its group? Give --socket or set SESSIONHOST_SOCKET for another path"
        }
    }

    private func write(
        method: HTTPMethod, path: String, body: [UInt8]?,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    ) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "localhost")
        headers.add(name: "Connection", value: "close")
        if let body {
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(body.count))
        } else if method == .POST {
            headers.add(name: "Content-Length", value: "0")
        }
        var parts: [HTTPClientRequestPart] = [.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers))]
        if let body { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
        parts.append(.end(nil))
        try await outbound.write(contentsOf: parts)
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? ChannelError, case .connectTimeout = error { return "timed out" }
        return "\(error)"
    }
}
