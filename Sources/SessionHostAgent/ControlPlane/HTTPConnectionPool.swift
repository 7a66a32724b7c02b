import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#endif

/// Keep-alive HTTP/1.1 connections to gsmsd, over TCP or TLS, opened on demand and reused. The
/// agent has at most two calls in flight (the held hand-off poll, and one of the others), so a
/// few idle connections cover it.
actor HTTPConnectionPool {
    let endpoint: ControlPlaneEndpoint
    let eventLoopGroup: any EventLoopGroup
    private var idle: [any Channel] = []
    private var tls: NIOSSLContext?

    /// Idle connections kept for reuse.
    static let maximumIdle = 4
    /// The largest answer body accepted.
    static let maximumBodyBytes = 1 << 20
    /// The longest a connection attempt may take before it is retried on a new socket (a SYN lost
    /// to a partition is otherwise retried by the kernel only after 1, 3, 7… seconds).
    static let maximumConnectTime = TimeAmount.seconds(1)
    /// TCP keepalive on every connection: probes after 1 s of silence, every second; the kernel
    /// gives the connection up when nothing has been acknowledged for 2.5 s. A held hand-off poll
    /// on a dead connection (gsmsd's machine gone, a partition) thus fails within about 2.5 s and
    /// the agent polls again on a new one (docs/control-plane-api.md, "Liveness of the channel").
    static let keepalive: [(SocketOptionLevel, SocketOptionName, SocketOptionValue)] = [
        (SocketOptionLevel(SOL_SOCKET), SocketOptionName(SO_KEEPALIVE), 1),
        (SocketOptionLevel(IPPROTO_TCP), SocketOptionName(TCP_KEEPIDLE), 1),
        (SocketOptionLevel(IPPROTO_TCP), SocketOptionName(TCP_KEEPINTVL), 1),
        (SocketOptionLevel(IPPROTO_TCP), SocketOptionName(TCP_KEEPCNT), 2),
        (SocketOptionLevel(IPPROTO_TCP), SocketOptionName(TCP_USER_TIMEOUT), 2500),
    ]

    init(endpoint: ControlPlaneEndpoint, eventLoopGroup: any EventLoopGroup) {
        self.endpoint = endpoint
        self.eventLoopGroup = eventLoopGroup
    }

    /// Sends one request and reads its whole answer, within `timeout` (connecting included).
    func execute(_ head: HTTPRequestHead, body: ByteBuffer?, timeout: TimeAmount) async throws -> HTTPAnswer {
        let deadline = NIODeadline.now() + timeout
        if let channel = takeIdle() {
            do {
                return try await exchange(head, body: body, deadline: deadline, on: channel)
            } catch where Self.mayBeStale(error) && NIODeadline.now() < deadline && !Task.isCancelled {
                // gsmsd closed the idle connection as the request went out: once more, on a new
                // one. Every call of the agent API may be repeated.
            }
        }
        let channel = try await connect(deadline: deadline)
        return try await exchange(head, body: body, deadline: deadline, on: channel)
    }

    /// Closes the idle connections.
    func shutdown() {
        for channel in idle { channel.close(promise: nil) }
        idle.removeAll()
    }

    /// Whether a failure on a reused connection may only mean that gsmsd had closed it.
    private static func mayBeStale(_ error: any Error) -> Bool {
        switch error as? HTTPExchangeFailure {
        case .timedOut, .answerTooLarge, .connectionClosed(answerStarted: true): false
        case .connectionClosed(answerStarted: false), .busy, nil: true
        }
    }

    private func takeIdle() -> (any Channel)? {
        while let channel = idle.popLast() {
            if channel.isActive { return channel }
        }
        return nil
    }

    private func exchange(_ head: HTTPRequestHead, body: ByteBuffer?, deadline: NIODeadline, on channel: any Channel) async throws -> HTTPAnswer {
        let answer = channel.eventLoop.makePromise(of: HTTPAnswer.self)
        channel.writeAndFlush(HTTPExchange(head: head, body: body, deadline: deadline, answer: answer)).whenFailure { error in
            answer.fail(error)
            channel.close(promise: nil)
        }
        let result: HTTPAnswer
        do {
            // Cancelling the task (shutdown) ends a held request at once.
            result = try await withTaskCancellationHandler {
                try await answer.futureResult.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch {
            channel.close(promise: nil)
            throw error
        }
        if result.keepAlive, channel.isActive, idle.count < Self.maximumIdle {
            idle.append(channel)
        } else {
            channel.close(promise: nil)
        }
        return result
    }

    private func connect(deadline: NIODeadline) async throws -> any Channel {
        let tls = try tlsContext()
        let endpoint = self.endpoint
        let serverHostname = (try? SocketAddress(ipAddress: endpoint.host, port: 0)) == nil ? endpoint.host : nil
        // Attempts of at most `maximumConnectTime` each, until the call's deadline.
        while true {
            let remaining = deadline - .now()
            do {
                return try await bootstrap(tls: tls, serverHostname: serverHostname, remaining: remaining)
                    .connect(host: endpoint.host, port: endpoint.port)
                    .get()
            } catch ChannelError.connectTimeout {
                if deadline - .now() <= .milliseconds(10) || Task.isCancelled {
                    throw HTTPExchangeFailure.timedOut  // the call's deadline passed while connecting
                }
            }
        }
    }

    private func bootstrap(tls: NIOSSLContext?, serverHostname: String?, remaining: TimeAmount) -> ClientBootstrap {
        var bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(max(min(remaining, Self.maximumConnectTime), .milliseconds(1)))
        for (level, name, value) in Self.keepalive {
            bootstrap = bootstrap.channelOption(ChannelOptions.Types.SocketOption(level: level, name: name), value: value)
        }
        return bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
                    }
                    try pipeline.addHTTPClientHandlers()
                    try pipeline.addHandler(HTTPExchangeHandler(maximumBodyBytes: Self.maximumBodyBytes))
                }
            }
    }

    /// The TLS context for `https://`, made once (it reads the system's trust roots); `nil` for `http://`.
    private func tlsContext() throws -> NIOSSLContext? {
        guard endpoint.usesTLS else { return nil }
        if let tls { return tls }
        let context = try NIOSSLContext(configuration: .makeClientConfiguration())
        tls = context
        return context
    }
}
