public import Logging
import NIOCore
import PostgresNIO
public import ServiceLifecycle

/// Receives the notifications of one channel (LISTEN) on a connection of its own, for as long
/// as it runs, and passes each payload on. Notifications sent while the connection is down are
/// lost, so `gap` is called whenever the listener may have missed some: once each time it
/// starts listening again, and every `retryInterval` while it cannot (its owner then re-reads
/// what it waits for). A graceful shutdown ends it.
public struct PostgresChangeListener: Service {
    public let configuration: PostgresStoreConfiguration
    public let channel: String
    public let retryInterval: Duration
    public let logger: Logger
    private let receive: @Sendable (String) async -> Void
    private let gap: @Sendable () async -> Void

    public init(
        configuration: PostgresStoreConfiguration, channel: String, retryInterval: Duration = .milliseconds(500),
        logger: Logger,
        receive: @escaping @Sendable (String) async -> Void, gap: @escaping @Sendable () async -> Void
    ) {
        self.configuration = configuration
        self.channel = channel
        self.retryInterval = retryInterval
        self.logger = logger
        self.receive = receive
        self.gap = gap
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var connectionID = 0
            var failing = false
            while !Task.isCancelled {
                connectionID += 1
                do {
                    try await listenOnce(connectionID: connectionID) {
                        if failing { logger.notice("change notifications are back") }
                        failing = false
                    }
                } catch {
                    if Task.isCancelled { break }
                    if !failing {
                        logger.warning(
                            "change notifications interrupted; waiters re-read until they are back",
                            metadata: ["error": "\(PostgresInventoryStore.describe(error).prefix(300))"])
                    }
                    failing = true
                }
                if Task.isCancelled { break }
                await gap()
                try? await Task.sleep(for: retryInterval)
            }
        }
    }

    /// Connects, listens and passes notifications on until the connection fails or the task is
    /// cancelled (which closes the connection).
    private func listenOnce(connectionID: Int, listening: () -> Void) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: try configuration.connectionConfiguration(), id: connectionID, logger: logger)
        do {
            try await withTaskCancellationHandler {
                try await connection.listen(on: channel) { notifications in
                    listening()
                    await gap()
                    for try await notification in notifications {
                        await receive(notification.payload)
                    }
                }
            } onCancel: {
                let _: EventLoopFuture<Void> = connection.close()
            }
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }
}
