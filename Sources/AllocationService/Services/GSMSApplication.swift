import AllocationStore
import AllocationStorePostgres
import AllocationStoreSQLite
import Hummingbird
import Logging
import NIOCore
import SessionHostModel
import ServiceLifecycle
import Systemd

/// Puts gsmsd together: the store, the REST API of the titles and of the agents on one
/// Hummingbird server, the cluster queue's background work and the inventory sweeper, in one
/// `ServiceGroup` that stops gracefully on
/// SIGTERM or SIGINT. Tells systemd `READY=1` with `STATUS=Listening on HOST:PORT` once serving.
///
/// With PostgreSQL, changes are relayed between instances (`PostgresChangeRelay`) and a
/// `PostgresChangeListener` service brings the other instances' changes in.
public enum GSMSApplication {
    /// gsmsd put together but not running: the HTTP application (which in-process tests drive
    /// with HummingbirdTesting), the services that run beside it, and the store they share.
    struct Assembly: Sendable {
        let application: Application<RouterResponder<GSMSRequestContext>>
        /// The PostgreSQL change listener (when shared), the cluster queue's background work and
        /// the inventory sweeper, in this order (the group stops them in reverse order, after the
        /// application).
        let backgroundServices: [ServiceGroupConfiguration.ServiceConfiguration]
        let store: any InventoryStore
        /// The standby buffers' latest report (`StandbyBufferService` refreshes it).
        let buffers: StandbyBufferMonitor
    }

    /// Runs gsmsd until SIGTERM or SIGINT: `build`, then the application and its background
    /// services in one `ServiceGroup`; the store is closed on the way out.
    public static func run(configuration: ServiceConfiguration, logger: Logger) async throws {
        let systemd = SystemdNotifier()
        let assembly = try await build(configuration: configuration, logger: logger) { address in
            systemd.ready(status: "Listening on \(address)")
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: assembly.backgroundServices + [.init(service: assembly.application)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            try? await assembly.store.close()
            throw error
        }
        systemd.stopping(status: "Stopped")
        try await assembly.store.close()
        logger.info("gsmsd stopped")
    }

    /// Opens the store and the secrets and wires the APIs; nothing listens yet. `onListening`
    /// gets `HOST:PORT` once the server listens. `clock` times the timeouts, waits and intervals
    /// of allocations, hand-offs, the cluster queue and the sweeper; `wallClock` dates what they
    /// store.
    static func build(
        configuration: ServiceConfiguration, logger: Logger,
        onListening: @escaping @Sendable (String) -> Void = { _ in },
        clock: any Clock<Duration> = ContinuousClock(), wallClock: WallClock = .system
    ) async throws -> Assembly {
        let credentials = try await JWTTitleCredentialVerifier.load(keyFile: configuration.tokenKeyFile)
        let fleet = try BearerSecretAuthenticator.load(path: configuration.agentTokenFile, role: .fleet)
        let store: any InventoryStore
        let notifier: ChangeNotifier
        var relayServices: [ServiceGroupConfiguration.ServiceConfiguration] = []
        switch configuration.database {
        case .sqlite(let path):
            store = try await SQLiteInventoryStore.open(path: path, logger: logger)
            notifier = ChangeNotifier()
            logger.info("inventory opened", metadata: ["database": "sqlite", "path": "\(path)"])
        case .postgres(let database):
            let shared = try await PostgresInventoryStore.open(database, logger: logger)
            let relay = PostgresChangeRelay(store: shared, logger: logger)
            let relayed = ChangeNotifier(relay: relay)
            store = shared
            notifier = relayed
            relayServices.append(
                .init(
                    service: PostgresChangeListener(
                        configuration: database, channel: PostgresChangeRelay.channel, logger: logger,
                        receive: { payload in
                            if let topic = relay.topic(of: payload) { await relayed.receive(topic) }
                        },
                        gap: { await relayed.wakeAll() })))
            logger.info(
                "inventory opened", metadata: ["database": "postgres", "url": "\(database.redactedDescription)"])
        }
        let timings = AllocationTimings(
            handoffTimeout: configuration.handoffTimeout, hostTimeout: configuration.hostTimeout,
            queueTimeout: configuration.queueTimeout, clock: clock, wallClock: wallClock)
        let metrics = GSMSMetrics(subscribedTitles: configuration.titles)
        let channels = HandoffChannels(clock: clock)
        let allocator = Allocator(
            store: store, notifier: notifier, channels: channels, timings: timings, logger: logger, metrics: metrics,
            strategy: configuration.allocationStrategy)
        let clusters = ClusterQueue(store: store, allocator: allocator, timings: timings, logger: logger)
        let buffers = StandbyBufferMonitor(policies: configuration.standbyBuffers, metrics: metrics) {
            try await store.fleetCounts()
        }

        let operations = FleetOperations(store: store, notifier: notifier, timings: timings, logger: logger)
        let router = Router(context: GSMSRequestContext.self)
        router.add(middleware: APIResponseMiddleware(logger: logger, metrics: metrics))
        TitleAPI(
            store: store, allocator: allocator, clusters: clusters, operations: operations, credentials: credentials,
            subscribedTitles: configuration.titles, logger: logger, metrics: metrics
        ).register(on: router)
        ControlPlaneAPI(
            store: store, notifier: notifier, clusters: clusters, fleet: fleet,
            hostKeys: HostKeyAuthenticator(store: store), channels: channels,
            subscribedTitles: configuration.titles, timings: timings, logger: logger, metrics: metrics
        ).register(on: router)
        MetricsAPI(metrics: metrics, store: store, channels: channels, logger: logger).register(on: router)
        if let operatorTokenFile = configuration.operatorTokenFile {
            OperatorAPI(
                store: store, secret: try BearerSecretAuthenticator.load(path: operatorTokenFile, role: .operator),
                operations: operations, buffers: { try await buffers.report() }
            ).register(on: router)
        }

        let app = Application(
            router: router,
            server: .http1(
                configuration: .init(idleTimeout: .nanoseconds(Int64(configuration.idleTimeout.timeInterval * 1e9)))),
            configuration: .init(
                address: .hostname(configuration.listenHost, port: configuration.listenPort), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.listenPort
                let address = "\(configuration.listenHost):\(port)"
                logger.info(
                    "gsmsd listening",
                    metadata: ["address": "\(address)", "titles": "\(configuration.titles.sorted())"])
                onListening(address)
            },
            logger: logger)
        return Assembly(
            application: app,
            backgroundServices: relayServices + [
                .init(service: clusters),
                .init(service: InventorySweeper(store: store, clusters: clusters, timings: timings, logger: logger)),
                .init(
                    service: StandbyBufferService(
                        monitor: buffers, hook: configuration.scalingHook?.makeHook(),
                        interval: configuration.bufferInterval, clock: clock, wallClock: wallClock, metrics: metrics,
                        logger: logger)),
            ],
            store: store, buffers: buffers)
    }
}
