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
import SessionHostHTTP
import SessionHostModel
import Systemd

/// Puts the agent together: loads every slot's state, then runs the socket servers, the control
/// plane channel and links, the health monitors, the systemd status reporter and the watchdog in
/// one `ServiceGroup` that stops gracefully on SIGTERM or SIGINT.
public enum AgentApplication {
    /// The 128-bit application id that derives the host id from `/etc/machine-id`.
    static let machineIDApplication = "6b1f0c2a9d3e4f5a8b7c6d5e4f3a2b1c"
    /// The 128-bit application id that derives the VM id from `/etc/machine-id`.
    static let vmIDApplication = "3e9a51c07d2b4f6e8a1c5b9d0f7e2a64"

    public static func run(configuration: AgentConfiguration, logger baseLogger: Logger) async throws {
        let plans = try configuration.slotPlans()
        // One agent per state directory, for as long as this one runs.
        let store = AgentStateStore(directory: configuration.stateDirectory)
        try store.prepare()
        let stateLock = try StateDirectoryLock(directory: configuration.stateDirectory)
        defer { withExtendedLifetime(stateLock) {} }
        let vmId = configuration.vmId ?? MachineID.applicationSpecificGUID(application: vmIDApplication)
        // The VM's drain, kept across restarts (a restart never starts or ends one).
        let drainStore = DrainStore(directory: configuration.stateDirectory)
        let (drainRecord, drainWarning) = try drainStore.load()
        if let drainWarning { baseLogger.error("\(drainWarning)") }
        var slots: [AgentSlot] = []
        for plan in plans {
            let agent = try HostAgent(
                identity: HostIdentity(configuration: configuration, slot: plan, vmId: vmId),
                configuredHostId: plan.hostId,
                derivedHostId: {
                    derivedHostId(stateDirectory: plan.stateDirectory) ?? UUID().uuidString.lowercased()
                },
                healthTimeout: configuration.healthTimeout,
                controlPlane: configuration.controlPlane == nil ? .local : ControlPlaneStanding(status: .connecting),
                store: AgentStateStore(directory: plan.stateDirectory),
                logger: baseLogger, drain: drainRecord?.notice)
            slots.append(AgentSlot(plan: plan, agent: agent))
        }
        let agents = slots.map(\.agent)
        let hosts = slots.map { (slot: $0.plan.number, agent: $0.agent) }
        let logger =
            slots.count == 1
            ? HostAgent.identified(baseLogger, sessionHostId: agents[0].sessionHostId, titleId: configuration.titleId)
            : baseLogger
        for slot in slots {
            var metadata: Logger.Metadata = [
                "session_host_id": "\(slot.agent.sessionHostId)",
                "state": "\(await slot.agent.state.rawValue)",
                "state_dir": "\(slot.plan.stateDirectory)",
            ]
            if slots.count > 1 { metadata["slot"] = "\(slot.plan.number)" }
            logger.info("agent state loaded", metadata: metadata)
        }
        if let notice = drainRecord?.notice {
            logger.notice(
                "the VM is draining (kept from before the restart)",
                metadata: ["deadline": "\(notice.deadline)", "source": "\(notice.source.rawValue)"])
        }
        let drains = DrainCoordinator(
            agents: agents, store: drainStore, record: drainRecord,
            onDrained: configuration.onDrained.map {
                OnDrainedCommand(command: $0, vmId: vmId ?? agents[0].sessionHostId, logger: logger)
            },
            countsUnreportedEnds: configuration.controlPlane != nil, logger: logger)

        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let notifier = SystemdNotifier()
        let metrics = AgentMetrics()
        let policy = PeerPolicy.forCurrentProcess(
            allowedUsers: configuration.allowedUsers, allowedGroups: configuration.allowedGroups)
        let stopping = OneShotSignal()
        let apis = agents.map {
            GameSocketAPI(
                agent: $0, policy: policy, localMode: configuration.controlPlane == nil, stopping: stopping,
                metrics: metrics, drains: drains)
        }

        // The main socket: the one slot, or every slot by the caller's unit instance.
        var addresses: [(HTTPListenAddress, @Sendable (AgentRequest) async -> AgentResponse)] = []
        let mainHandler: @Sendable (AgentRequest) async -> AgentResponse
        if apis.count == 1 {
            let api = apis[0]
            mainHandler = { await api.handle($0) }
        } else {
            let router = SlotSocketRouter(apis: apis, socketPath: configuration.socketPath)
            mainHandler = { await router.handle($0) }
        }
        let inherited = SystemdListenSockets.take()
        if let descriptor = inherited.first(where: SystemdListenSockets.isListeningUnixStream) {
            addresses.append((.inheritedDescriptor(descriptor), mainHandler))
        } else {
            if !inherited.isEmpty {
                logger.warning(
                    "systemd passed sockets, but none is a listening Unix stream socket; binding the socket path instead"
                )
            }
            try prepareSocketDirectory(for: configuration.socketPath)
            try refuseIfServed(configuration.socketPath)
            addresses.append((.unixSocket(path: configuration.socketPath, mode: 0o660), mainHandler))
        }
        // With several slots, each also has a socket of its own.
        for (slot, api) in zip(slots, apis) {
            guard let path = slot.plan.socketPath else { continue }
            try refuseIfServed(path)
            addresses.append((.unixSocket(path: path, mode: 0o660), { await api.handle($0) }))
        }

        let gsdkSettings = configuration.gsdk.map { settings in
            slots.map { GSDKSettings.forSlot($0.plan.number, of: slots.count, base: settings) }
        }
        let listeners = ListenersReady(count: addresses.count + (gsdkSettings?.count ?? 0))
        let socketServers = addresses.map { address, handler in
            AgentSocketServer(
                address: address, handler: handler, stopping: stopping, eventLoopGroup: eventLoopGroup,
                logger: logger, idleTimeout: configuration.idleTimeout,
                onListening: { listeners.listenerReady() })
        }
        // One service: the servers share `stopping` and must stop together (AgentSocketServers).
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: AgentSocketServers(servers: socketServers))
        ]
        if let controlPlane = configuration.controlPlane {
            logger.info("control plane", metadata: ["url": "\(controlPlane.baseURL)", "slots": "\(slots.count)"])
            let hostKey = try HostKeyFile(stateDirectory: configuration.stateDirectory).loadOrCreate()
            let client: ControlPlaneClient
            do {
                client = try ControlPlaneClient(
                    baseURL: controlPlane.baseURL, fleetSecret: controlPlane.fleetSecret, hostKey: hostKey,
                    eventLoopGroup: eventLoopGroup)
            } catch {
                throw AgentError.failure(AgentError.Code(error.code), error.message)
            }
            // The channel before the links: it stops after them, and closes the connections last.
            let channel = ControlPlaneChannel(client: client, hostIds: agents.map(\.sessionHostId), logger: logger)
            services.append(.init(service: channel))
            for agent in agents {
                let slotLogger =
                    slots.count == 1
                    ? logger
                    : HostAgent.identified(
                        baseLogger, sessionHostId: agent.sessionHostId, titleId: configuration.titleId)
                services.append(
                    .init(
                        service: ControlPlaneLink(
                            agent: agent, channel: channel, logger: slotLogger, metrics: metrics, drains: drains))
                )
            }
        }
        if let address = configuration.metricsListen {
            let identity = (configuration.titleId, configuration.region)
            services.append(
                .init(
                    service: MetricsHTTPServer(
                        address: address, eventLoopGroup: eventLoopGroup, logger: logger,
                        render: {
                            metrics.scrape(
                                hosts: hosts.map { ($0.slot, $0.agent.sessionHostId, $0.agent.currentState) },
                                titleId: identity.0, region: identity.1, drain: agents[0].drainStanding)
                        })))
        }
        if let gsdkSettings {
            for (slot, settings) in zip(slots, gsdkSettings) {
                let frontEnd = GSDKFrontEnd(agent: slot.agent, logger: logger)
                services.append(
                    .init(
                        service: GSDKListener(
                            settings: settings, api: GSDKAPI(frontEnd: frontEnd),
                            identity: slot.agent.identity, eventLoopGroup: eventLoopGroup, logger: logger,
                            idleTimeout: configuration.idleTimeout, onListening: { _ in listeners.listenerReady() })))
                services.append(.init(service: GSDKSilenceMonitor(frontEnd: frontEnd)))
            }
        }
        services += agents.map { .init(service: HealthMonitor(agent: $0)) }
        services.append(.init(service: drains))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services + [
                    .init(
                        service: WatchdogService(
                            interval: SystemdWatchdog.pingInterval(), agents: agents,
                            eventLoop: eventLoopGroup.next(), notifier: notifier, logger: logger)),
                    // Last, so that it is the first told of shutdown and says STOPPING=1 at once.
                    .init(
                        service: SystemdStatusService(agents: agents, notifier: notifier, listening: listeners.stream)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            for agent in agents { await agent.finishListeners() }
            try? await eventLoopGroup.shutdownGracefully()
            throw error
        }
        for agent in agents { await agent.finishListeners() }
        try await eventLoopGroup.shutdownGracefully()
        logger.info("agent stopped")
    }

    /// Creates the socket's directory when it is missing (mode 0755).
    /// The host id derived from `/etc/machine-id` (without revealing it), one per state
    /// directory, so that agents on one machine with their own state directories get their own
    /// ids. The default state directory keeps the id agents always derived there.
    static func derivedHostId(stateDirectory: String) -> String? {
        let normalized =
            stateDirectory.count > 1 && stateDirectory.hasSuffix("/")
            ? String(stateDirectory.dropLast()) : stateDirectory
        guard normalized != defaultStateDirectory else {
            return MachineID.applicationSpecificGUID(application: machineIDApplication)
        }
        return MachineID.applicationSpecificGUID(application: applicationId(mixing: normalized))
    }

    static let defaultStateDirectory = "/var/lib/sessionhost"

    /// `machineIDApplication` with the FNV-1a hash of `text` folded in: another 128-bit
    /// application id, so another unrelated derived id (it is not a secret; machine-id stays hidden).
    static func applicationId(mixing text: String) -> String {
        var hashes: [UInt64] = [0xcbf2_9ce4_8422_2325, 0x8422_2325_cbf2_9ce4]
        for index in hashes.indices {
            for byte in text.utf8 {
                hashes[index] ^= UInt64(byte)
                hashes[index] = hashes[index] &* 0x0000_0100_0000_01B3
            }
        }
        let base = Array(machineIDApplication.utf8)
        let hex = Array("0123456789abcdef".utf8)
        var digits: [UInt8] = []
        for position in 0..<32 {
            let hash = hashes[position / 16]
            let nibble = UInt8((hash >> UInt64((position % 16) * 4)) & 0xF)
            let baseNibble =
                base[position] <= UInt8(ascii: "9")
                ? base[position] - UInt8(ascii: "0") : base[position] - UInt8(ascii: "a") + 10
            digits.append(hex[Int(nibble ^ baseNibble)])
        }
        return String(decoding: digits, as: UTF8.self)
    }

    /// Refuses to take over a socket another process serves (a second agent started with the
    /// same `--socket`); a file nobody answers on is stale and replaced.
    static func refuseIfServed(_ socketPath: String) throws(AgentError) {
        var info = stat()
        guard lstat(socketPath, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { return }
        let probe = socket(
            AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard probe >= 0 else { return }
        defer { close(probe) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                // A full backlog (EAGAIN) means a server is there too; refused means a stale file.
                connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 || errno == EAGAIN
            }
        }
        if connected {
            throw AgentError(
                .failure, code: .socketInUse,
                message:
                    "another process serves \(socketPath) (another sessionhostd?); give each agent its own --socket and --state-dir"
            )
        }
    }

    static func prepareSocketDirectory(for socketPath: String) throws(AgentError) {
        let directory = AtomicFile.parentDirectory(of: socketPath)
        if FileManager.default.fileExists(atPath: directory) { return }
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw AgentError(
                .failure, code: .socketDirectory,
                message:
                    "cannot create the socket's directory \(directory): \(FileErrorDescription.describeCreating(directory: directory, error))"
            )
        }
    }
}
