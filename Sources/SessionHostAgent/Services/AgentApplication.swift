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

/// Puts the agent together: loads the state, then runs the socket server, the health monitor,
/// the systemd status reporter and the watchdog in one `ServiceGroup` that stops gracefully on
/// SIGTERM or SIGINT.
public enum AgentApplication {
    /// The 128-bit application id that derives the host id from `/etc/machine-id`.
    static let machineIDApplication = "6b1f0c2a9d3e4f5a8b7c6d5e4f3a2b1c"

    public static func run(configuration: AgentConfiguration, logger baseLogger: Logger) async throws {
        // One agent per state directory, for as long as this one runs.
        let store = AgentStateStore(directory: configuration.stateDirectory)
        try store.prepare()
        let stateLock = try StateDirectoryLock(directory: configuration.stateDirectory)
        defer { withExtendedLifetime(stateLock) {} }
        let agent = try HostAgent(
            identity: HostIdentity(configuration: configuration),
            configuredHostId: configuration.hostId,
            derivedHostId: {
                derivedHostId(stateDirectory: configuration.stateDirectory) ?? UUID().uuidString.lowercased()
            },
            healthTimeout: configuration.healthTimeout,
            controlPlane: configuration.controlPlane == nil ? .local : ControlPlaneStanding(status: .connecting),
            store: store,
            logger: baseLogger)
        let logger = HostAgent.identified(
            baseLogger, sessionHostId: agent.sessionHostId, titleId: configuration.titleId)
        let loadedState = await agent.state
        logger.info(
            "agent state loaded",
            metadata: [
                "session_host_id": "\(agent.sessionHostId)",
                "state": "\(loadedState.rawValue)",
                "state_dir": "\(configuration.stateDirectory)",
            ])

        let inherited = SystemdListenSockets.take()
        let target: HTTPListenAddress
        if let descriptor = inherited.first(where: SystemdListenSockets.isListeningUnixStream) {
            target = .inheritedDescriptor(descriptor)
        } else {
            if !inherited.isEmpty {
                logger.warning(
                    "systemd passed sockets, but none is a listening Unix stream socket; binding the socket path instead"
                )
            }
            try prepareSocketDirectory(for: configuration.socketPath)
            try refuseIfServed(configuration.socketPath)
            target = .unixSocket(path: configuration.socketPath, mode: 0o660)
        }

        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let notifier = SystemdNotifier()
        let listeners = ListenersReady(count: configuration.gsdk == nil ? 1 : 2)
        let metrics = AgentMetrics()
        let policy = PeerPolicy.forCurrentProcess(
            allowedUsers: configuration.allowedUsers, allowedGroups: configuration.allowedGroups)
        let server = AgentSocketServer(
            address: target,
            api: GameSocketAPI(
                agent: agent, policy: policy, localMode: configuration.controlPlane == nil, metrics: metrics),
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
                throw AgentError.failure(AgentError.Code(error.code), error.message)
            }
            services.append(
                .init(service: ControlPlaneLink(agent: agent, client: client, logger: logger, metrics: metrics)))
        }
        if let address = configuration.metricsListen {
            let identity = (configuration.titleId, configuration.region)
            services.append(
                .init(
                    service: MetricsHTTPServer(
                        address: address, eventLoopGroup: eventLoopGroup, logger: logger,
                        render: {
                            metrics.scrape(
                                state: agent.currentState, sessionHostId: agent.sessionHostId, titleId: identity.0,
                                region: identity.1)
                        })))
        }
        if let gsdk = configuration.gsdk {
            let frontEnd = GSDKFrontEnd(agent: agent, logger: logger)
            services.append(
                .init(
                    service: GSDKListener(
                        settings: gsdk, api: GSDKAPI(frontEnd: frontEnd),
                        identity: agent.identity, eventLoopGroup: eventLoopGroup, logger: logger,
                        idleTimeout: configuration.idleTimeout, onListening: { _ in listeners.listenerReady() })))
            services.append(.init(service: GSDKSilenceMonitor(frontEnd: frontEnd)))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services + [
                    .init(service: HealthMonitor(agent: agent)),
                    .init(
                        service: WatchdogService(
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
