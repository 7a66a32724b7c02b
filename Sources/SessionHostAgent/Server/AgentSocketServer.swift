import Logging
import NIOCore
import ServiceLifecycle
import SessionHostHTTP

/// Serves `GameSocketAPI` on the agent socket (a path it binds, mode 0660, or the socket systemd
/// passed) with `HTTPServer`: peer credentials on every connection, 64 KiB bodies, the idle
/// timeout, held polls and event streams, and a drain on graceful shutdown that gives every
/// client a complete answer, so that a restart under socket activation (an upgrade) cuts no
/// request of a game server. A connection refused (403) closes after its answer.
public struct AgentSocketServer: Service {
    public let server: HTTPServer

    public init(
        address: HTTPListenAddress, api: GameSocketAPI, eventLoopGroup: any EventLoopGroup, logger: Logger,
        drainTimeout: Duration = .seconds(5), idleTimeout: Duration = .seconds(75),
        onListening: @escaping @Sendable () async -> Void = {}
    ) {
        self.init(
            address: address, handler: { await api.handle($0) }, stopping: api.stopping,
            eventLoopGroup: eventLoopGroup, logger: logger, drainTimeout: drainTimeout, idleTimeout: idleTimeout,
            onListening: onListening)
    }

    /// Serves `handler`: one slot's `GameSocketAPI`, or the `SlotSocketRouter` of several.
    /// `stopping` is the APIs' signal (the server fires it when it begins to stop).
    public init(
        address: HTTPListenAddress, handler: @escaping @Sendable (AgentRequest) async -> AgentResponse,
        stopping: OneShotSignal, eventLoopGroup: any EventLoopGroup, logger: Logger,
        drainTimeout: Duration = .seconds(5), idleTimeout: Duration = .seconds(75),
        onListening: @escaping @Sendable () async -> Void = {}
    ) {
        server = HTTPServer(
            configuration: .init(
                address: address, bodyLimit: GameSocketAPI.maximumBodyBytes, idleTimeout: idleTimeout,
                drainTimeout: drainTimeout, closingStatuses: [403]),
            eventLoopGroup: eventLoopGroup, logger: logger, stopping: stopping,
            onListening: { _ in
                logger.info("serving the agent API", metadata: ["socket": "\(address.description)"])
                await onListening()
            },
            handler: handler)
    }

    public func run() async throws {
        do {
            try await server.run()
        } catch let error as HTTPListenError {
            throw AgentError.failure(.socketBindFailed, error.description)
        }
    }
}
