import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP/1.1 connection carrying one exchange at a time. ``HTTP1Client`` keeps a pool of them;
/// load generators that want a fixed set of connections use them directly.
public struct HTTP1Connection: Sendable {
    /// The connection's channel.
    public let channel: any Channel
    let address: HTTPClientAddress

    /// Whether the connection is still open (an idle one the server closed is not).
    public var isActive: Bool { channel.isActive }

    /// Connects to `configuration.address`, within `deadline` when given.
    public static func connect(
        _ configuration: HTTPClientConfiguration, group: any EventLoopGroup, deadline: NIODeadline? = nil
    ) async throws -> HTTP1Connection {
        let maximumAnswerBytes = configuration.maximumAnswerBytes
        let channel = try await connectChannel(configuration, group: group, deadline: deadline) { channel in
            channel.eventLoop.makeCompletedFuture {
                try addHTTPHandlers(to: channel.pipeline.syncOperations, configuration)
                try channel.pipeline.syncOperations.addHandler(
                    HTTP1ExchangeHandler(maximumAnswerBytes: maximumAnswerBytes))
                return channel
            }
        }
        return HTTP1Connection(channel: channel, address: configuration.address)
    }

    /// Sends one request and reads its whole answer, until `deadline` when given (the connection
    /// is closed then). Cancelling the task closes the connection and ends the request at once.
    /// - Parameter keepAlive: `false` sends `Connection: close`.
    public func execute(_ request: HTTP1Request, deadline: NIODeadline? = nil, keepAlive: Bool = true) async throws
        -> HTTP1Response
    {
        let channel = self.channel
        let answer = channel.eventLoop.makePromise(of: HTTP1Response.self)
        let exchange = HTTP1Exchange(
            head: request.head(address: address, keepAlive: keepAlive), body: request.body, deadline: deadline,
            answer: answer)
        channel.writeAndFlush(exchange).whenFailure { error in
            answer.fail(error)
            channel.close(promise: nil)
        }
        do {
            return try await withTaskCancellationHandler {
                try await answer.futureResult.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }

    /// Closes the connection.
    public func close() {
        channel.close(promise: nil)
    }

    /// TLS (when configured) and the HTTP/1.1 codec.
    static func addHTTPHandlers(
        to pipeline: ChannelPipeline.SynchronousOperations, _ configuration: HTTPClientConfiguration
    ) throws {
        if let tls = configuration.tls {
            try tls.addTLSHandler(to: pipeline, serverHostname: configuration.address.serverHostname)
        }
        try pipeline.addHTTPClientHandlers()
    }

    /// Opens a channel set up by `initializer`: attempts of at most
    /// `configuration.connectAttemptTimeout` each until `deadline` (one attempt without one).
    /// Failures are ``HTTP1ClientError/cannotConnect(_:_:)``, or ``HTTP1ClientError/timedOut``
    /// once the deadline passed.
    static func connectChannel<Output: Sendable>(
        _ configuration: HTTPClientConfiguration, group: any EventLoopGroup, deadline: NIODeadline?,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Output>
    ) async throws -> Output {
        let address = configuration.address
        while true {
            var attempt = configuration.connectAttemptTimeout
            if let deadline { attempt = max(min(deadline - .now(), attempt), .milliseconds(1)) }
            var bootstrap = ClientBootstrap(group: group).connectTimeout(attempt)
            for option in configuration.socketOptions {
                bootstrap = bootstrap.channelOption(
                    ChannelOptions.Types.SocketOption(level: option.level, name: option.name), value: option.value)
            }
            do {
                switch address {
                case .unix(let path):
                    return try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
                case .tcp(let host, let port):
                    return try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
                }
            } catch {
                guard HTTPConnectFailure(error) == .timedOut, let deadline else {
                    throw HTTP1ClientError.cannotConnect(address, HTTPConnectFailure(error))
                }
                if deadline - .now() <= .milliseconds(10) || Task.isCancelled {
                    throw HTTP1ClientError.timedOut // the request's deadline passed while connecting
                }
            }
        }
    }
}
