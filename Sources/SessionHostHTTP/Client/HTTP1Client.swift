import NIOCore
import NIOHTTP1
import NIOPosix

/// An HTTP/1.1 client for one server, over a Unix socket or TCP (TLS through a hook): keep-alive
/// connections opened on demand and reused, per-request deadlines, a cap on answers, and answers
/// streamed line by line.
///
/// ```swift
/// let client = HTTP1Client(HTTPClientConfiguration(address: .unix(path: "/run/sessionhost/agent.sock")))
/// let answer = try await client.execute(HTTP1Request(method: .GET, path: "/v1/host"), timeout: .seconds(10))
/// ```
///
/// A request sent on a reused connection that the server had closed while it was idle is sent
/// once more on a new connection, when it cannot have been processed: none of it was written, or
/// it is idempotent and no answer had started.
public actor HTTP1Client {
    public nonisolated let configuration: HTTPClientConfiguration
    public nonisolated let eventLoopGroup: any EventLoopGroup
    private var idle: [HTTP1Connection] = []

    public init(
        _ configuration: HTTPClientConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
    }

    deinit {
        for connection in idle { connection.close() }
    }

    /// Sends one request and reads its whole answer, within `timeout` (connecting included) when
    /// given. Cancelling the task ends the request at once.
    public func execute(_ request: HTTP1Request, timeout: TimeAmount? = nil) async throws -> HTTP1Response {
        let deadline = timeout.map { NIODeadline.now() + $0 }
        if let connection = takeIdle() {
            do {
                return try await exchange(request, deadline: deadline, on: connection)
            } catch
                where Self.mayResend(request, after: error) && deadline.map({ NIODeadline.now() < $0 }) ?? true
                && !Task.isCancelled
            {
                // The server closed the idle connection as the request went out: once more, on a new one.
            }
        }
        let connection = try await HTTP1Connection.connect(configuration, group: eventLoopGroup, deadline: deadline)
        return try await exchange(request, deadline: deadline, on: connection)
    }

    /// Closes the idle connections.
    public func shutdown() {
        for connection in idle { connection.close() }
        idle.removeAll()
    }

    /// The number of idle connections kept for reuse.
    public var idleConnectionCount: Int { idle.count }

    /// Whether `request` may be sent again after it failed with `error` on a reused connection.
    static func mayResend(_ request: HTTP1Request, after error: any Error) -> Bool {
        switch error {
        case HTTP1ClientError.busy, ChannelError.ioOnClosedChannel, ChannelError.alreadyClosed:
            return true // none of it was written
        case HTTP1ClientError.timedOut, HTTP1ClientError.answerTooLarge,
            HTTP1ClientError.connectionClosed(answerStarted: true):
            return false
        default:
            // Closed or reset before any answer: the server may have read the request.
            return request.isIdempotent
        }
    }

    private func takeIdle() -> HTTP1Connection? {
        while let connection = idle.popLast() {
            if connection.isActive { return connection }
        }
        return nil
    }

    private func exchange(_ request: HTTP1Request, deadline: NIODeadline?, on connection: HTTP1Connection) async throws
        -> HTTP1Response
    {
        let keepAlive = configuration.maximumIdleConnections > 0
        let response = try await connection.execute(request, deadline: deadline, keepAlive: keepAlive)
        if keepAlive, response.keepAlive, connection.isActive, idle.count < configuration.maximumIdleConnections {
            idle.append(connection)
        } else {
            connection.close()
        }
        return response
    }
}
