#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SessionHostModel
import Systemd

/// Puts the agent together: loads the state, then runs the socket server, the health monitor,
/// the systemd status reporter and the watchdog in one `ServiceGroup` that stops gracefully on
/// SIGTERM or SIGINT.
public enum AgentApplication {
    /// The 128-bit application id that derives the host id from `/etc/machine-id`.
    static let machineIDApplication = "6b1f0c2a9d3e4f5a8b7c6d5e4f3a2b1c"

    public static func run(configuration: AgentConfiguration, logger baseLogger: Logger) async throws {
        let agent = try HostAgent(
            identity: HostIdentity(configuration: configuration),
            configuredHostId: configuration.hostId,
            derivedHostId: {
                MachineID.applicationSpecificGUID(application: machineIDApplication) ?? UUID().uuidString.lowercased()
            },
            healthTimeout: configuration.healthTimeout,
            controlPlane: configuration.controlPlane == nil ? .local : ControlPlaneStanding(status: .connecting),
            store: AgentStateStore(directory: configuration.stateDirectory),
            logger: baseLogger)
        let logger = HostAgent.identified(baseLogger, sessionHostId: agent.sessionHostId, titleId: configuration.titleId)
        let loadedState = await agent.state
        logger.info(
            "agent state loaded",
            metadata: [
                "session_host_id": "\(agent.sessionHostId)",
                "state": "\(loadedState.rawValue)",
                "state_dir": "\(configuration.stateDirectory)",
            ])

        let inherited = SystemdListenSockets.take()
        let target: ListenTarget
        if let descriptor = inherited.first(where: SystemdListenSockets.isListeningUnixStream) {
            target = .inheritedDescriptor(descriptor)
        } else {
            if !inherited.isEmpty {
                logger.warning("systemd passed sockets, but none is a listening Unix stream socket; binding the socket path instead")
            }
            try prepareSocketDirectory(for: configuration.socketPath)
            target = .path(configuration.socketPath)
        }

        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let notifier = SystemdNotifier()
        let listeners = ListenersReady(count: configuration.gsdk == nil ? 1 : 2)
        let metrics = AgentMetrics()
        let policy = PeerPolicy.forCurrentProcess(
            allowedUsers: configuration.allowedUsers, allowedGroups: configuration.allowedGroups)
        let server = AgentHTTPServer(
            target: target,
            api: AgentAPI(agent: agent, policy: policy, localMode: configuration.controlPlane == nil, metrics: metrics),
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            idleTimeout: configuration.idleTimeout,
            onListening: { listeners.listenerReady() })

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: server)]
        if let controlPlane = configuration.controlPlane {
            logger.info("control plane", metadata: ["url": "\(controlPlane.baseURL)"])
            let hostKey = try HostKeyFile(stateDirectory: configuration.stateDirectory).loadOrCreate()
            let client: ControlPlaneClient
            do {
                client = try ControlPlaneClient(
                    baseURL: controlPlane.baseURL, fleetSecret: controlPlane.fleetSecret, hostKey: hostKey,
                    sessionHostId: agent.sessionHostId, eventLoopGroup: eventLoopGroup)
            } catch {
                throw AgentError(status: 500, code: error.code, message: error.message)
            }
            services.append(.init(service: ControlPlaneLink(agent: agent, client: client, logger: logger, metrics: metrics)))
        }
        if let address = configuration.metricsListen {
            let identity = (configuration.titleId, configuration.region)
            services.append(.init(service: MetricsHTTPServer(
                address: address, eventLoopGroup: eventLoopGroup, logger: logger,
                render: {
                    metrics.scrape(
                        state: agent.currentState, sessionHostId: agent.sessionHostId, titleId: identity.0, region: identity.1)
                })))
        }
        if let gsdk = configuration.gsdk {
            let frontEnd = GSDKFrontEnd(agent: agent, logger: logger)
            services.append(.init(service: GSDKListener(
                settings: gsdk, api: GSDKAPI(frontEnd: frontEnd),
                identity: agent.identity, eventLoopGroup: eventLoopGroup, logger: logger,
                idleTimeout: configuration.idleTimeout, onListening: { _ in listeners.listenerReady() })))
            services.append(.init(service: GSDKSilenceMonitor(frontEnd: frontEnd)))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services + [
                    .init(service: HealthMonitor(agent: agent)),
                    .init(service: WatchdogService(
                        interval: SystemdWatchdog.pingInterval(), agent: agent,
                        eventLoop: eventLoopGroup.next(), notifier: notifier, logger: logger)),
                    // Last, so that it is the first told of shutdown and says STOPPING=1 at once.
                    .init(service: SystemdStatusService(agent: agent, notifier: notifier, listening: listeners.stream)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            await agent.finishListeners()
            try? await eventLoopGroup.shutdownGracefully()
            throw error
        }
        await agent.finishListeners()
        try await eventLoopGroup.shutdownGracefully()
        logger.info("agent stopped")
    }

    /// Creates the socket's directory when it is missing (mode 0755).
    static func prepareSocketDirectory(for socketPath: String) throws(AgentError) {
        let directory = AtomicFile.parentDirectory(of: socketPath)
        if FileManager.default.fileExists(atPath: directory) { return }
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw AgentError(status: 500, code: "SocketDirectory", message: "cannot create \(directory): \(error)")
        }
    }
}
