import Logging
import NIOCore
import ServiceLifecycle
import SessionHostHTTP

/// Serves `GSDKAPI` as HTTP/1.1 on a loopback TCP address, then writes the GSDK config file
/// naming the port it bound. Before it binds, the front end loads what it kept in the state
/// directory (`GSDKFrontEnd.open`); for port 0 the port the kernel picked is saved there and
/// bound again at later starts while the config file still names it, since a running game
/// server keeps heartbeating the port its config file named (a config file gone with the
/// runtime directory means a reboot: no game server knows the port, and a new one is picked).
/// It is an `HTTPServer`: keep-alive connections (the C++ SDK reuses one) are served one request
/// after the other; `Expect: 100-continue` is answered; bodies are limited to 64 KiB. On graceful
/// shutdown it stops accepting, lets answers in flight finish and closes.
public struct GSDKListener: Service {
    public let settings: GSDKSettings
    public let api: GSDKAPI
    public let identity: HostIdentity
    public let eventLoopGroup: any EventLoopGroup
    public let logger: Logger
    public let drainTimeout: Duration
    /// How long a connection may stay idle, or take to send a request, before it is closed.
    public let idleTimeout: Duration
    /// Called with the bound port once the config file is written.
    public let onListening: @Sendable (Int) async -> Void

    public init(
        settings: GSDKSettings, api: GSDKAPI, identity: HostIdentity, eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        drainTimeout: Duration = .seconds(5), idleTimeout: Duration = .seconds(75),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.settings = settings
        self.api = api
        self.identity = identity
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.drainTimeout = drainTimeout
        self.idleTimeout = idleTimeout
        self.onListening = onListening
    }

    public func run() async throws {
        let store = settings.stateDirectory.map { GSDKStateStore(directory: $0) }
        var kept: Int?
        if let store {
            let saved = try await api.frontEnd.open(store)
            if settings.port == 0, saved.listenHost == settings.host, let port = saved.listenPort,
                (1...65535).contains(port)
            {
                let endpoint = GSDKSettings.endpoint(host: settings.host, port: port)
                if GSDKConfigFile.endpoint(inFileAt: settings.configFilePath) == endpoint {
                    kept = port
                } else {
                    logger.info(
                        "the GSDK config file no longer names the port kept from an earlier start: no game server can know it, a new one is picked",
                        metadata: ["endpoint": "\(endpoint)", "config_file": "\(settings.configFilePath)"])
                }
            }
        }
        if settings.createsLogFolder {
            try GSDKConfigFile.prepareLogFolder(settings.logFolder)
        }
        let api = self.api
        let settings = self.settings
        let identity = self.identity
        let logger = self.logger
        let onListening = self.onListening
        let keptPort = kept
        let server = HTTPServer(
            configuration: .init(
                address: .tcp(host: settings.host, port: kept ?? settings.port),
                bodyLimit: GameSocketAPI.maximumBodyBytes,
                idleTimeout: idleTimeout, drainTimeout: drainTimeout, backlog: 64,
                jsonContentType: "application/json; charset=utf-8"),
            eventLoopGroup: eventLoopGroup, logger: logger,
            onListening: { listening in
                let port = listening.port ?? keptPort ?? settings.port
                let endpoint = GSDKSettings.endpoint(host: settings.host, port: port)
                // Saved before the config file names it: no game server ever reads a port the
                // next start would not bind again.
                if settings.port == 0, keptPort != port {
                    try await api.frontEnd.keepListenPort(host: settings.host, port: port)
                }
                try GSDKConfigFile(
                    sessionHostId: api.frontEnd.sessionHostId, identity: identity, endpoint: endpoint,
                    settings: settings
                )
                .write(to: settings.configFilePath)
                logger.info(
                    "serving GSDK game servers",
                    metadata: ["endpoint": "\(endpoint)", "config_file": "\(settings.configFilePath)"])
                await onListening(port)
            },
            handler: { await api.handle($0) })
        do {
            try await server.run()
        } catch let error as HTTPListenError {
            if let kept, let store {
                let endpoint = GSDKSettings.endpoint(host: settings.host, port: kept)
                throw AgentError(
                    .failure, code: .gsdkPortUnavailable,
                    message: "cannot listen for GSDK game servers on \(endpoint), the port picked for --gsdk-listen "
                        + "\(GSDKSettings.endpoint(host: settings.host, port: 0)) at an earlier start and kept in \(store.path) "
                        + "because running game servers heartbeat the port their config file names: \(error.reason). "
                        + "Free the port, or give --gsdk-listen a fixed port, or delete \(store.path) to pick a new one "
                        + "(then restart the game servers)")
            }
            throw AgentError(
                .failure, code: .gsdkListenFailed,
                message:
                    "cannot listen for GSDK game servers on \(GSDKSettings.endpoint(host: settings.host, port: settings.port)): \(error.reason)"
            )
        }
    }
}
