#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import SessionHostModel

#if canImport(Glibc)
import Glibc
#endif

/// Everything `sessionhostd` needs to run, resolved from flags, the config file and the
/// environment (in that order of precedence).
public struct AgentConfiguration: Sendable, Equatable {
    public var socketPath: String
    public var stateDirectory: String
    public var titleId: String
    /// `nil`: derive from the machine id, else keep the one in the state directory.
    public var hostId: String?
    public var region: String
    public var hostName: String
    public var ports: [PortSpecification]
    public var secureContext: String
    public var sandboxId: String?
    public var cloudGameId: String?
    public var gameModeId: String?
    /// `nil`: the heartbeat check is off.
    public var healthTimeout: Duration?
    /// How long a socket connection may stay idle, or take to send a request, before it is closed.
    public var idleTimeout: Duration
    public var allowedUsers: [UInt32]
    public var allowedGroups: [UInt32]
    public var logLevel: Logger.Level
    /// gsmsd, or `nil` for local mode.
    public var controlPlane: ControlPlaneSettings?
    /// The GSDK front end (`--gsdk-listen`), or `nil` when it is off.
    public var gsdk: GSDKSettings?
    /// Where to serve the metrics, or `nil` (off).
    public var metricsListen: MetricsListenAddress?
    /// How many session hosts (slots) the agent runs (`--slots`), 1 to 64.
    public var slotCount: Int
    /// With several slots: how far apart two slots' ports are (`--slot-port-stride`); `nil`: the
    /// span of the ports plus one.
    public var slotPortStride: Int?
    /// What each slot changes (the config file's `"slot"` blocks), in slot order; may be empty.
    public var slotBlocks: [AgentConfigFile.SlotBlock]
    /// The VM gsmsd packs by (`--vm-id`); `nil`: derived from the machine id.
    public var vmId: String?
    /// The shell command run once per drain when the VM is drained (`--on-drained`), or `nil`.
    public var onDrained: String?

    /// Where gsmsd is and the fleet secret the agent presents.
    public struct ControlPlaneSettings: Sendable, Equatable {
        public var baseURL: String
        public var fleetSecret: String

        public init(baseURL: String, fleetSecret: String) {
            self.baseURL = baseURL
            self.fleetSecret = fleetSecret
        }
    }

    public init(
        socketPath: String, stateDirectory: String, titleId: String = "", hostId: String? = nil,
        region: String = "local", hostName: String = "localhost", ports: [PortSpecification] = [],
        secureContext: String = "", sandboxId: String? = nil, cloudGameId: String? = nil,
        gameModeId: String? = nil, healthTimeout: Duration? = .seconds(30), idleTimeout: Duration = .seconds(75),
        allowedUsers: [UInt32] = [], allowedGroups: [UInt32] = [], logLevel: Logger.Level = .info,
        controlPlane: ControlPlaneSettings? = nil, gsdk: GSDKSettings? = nil,
        metricsListen: MetricsListenAddress? = nil,
        slotCount: Int = 1, slotPortStride: Int? = nil, slotBlocks: [AgentConfigFile.SlotBlock] = [],
        vmId: String? = nil, onDrained: String? = nil
    ) {
        self.onDrained = onDrained
        self.slotCount = slotCount
        self.slotPortStride = slotPortStride
        self.slotBlocks = slotBlocks
        self.vmId = vmId
        self.controlPlane = controlPlane
        self.gsdk = gsdk
        self.metricsListen = metricsListen
        self.socketPath = socketPath
        self.stateDirectory = stateDirectory
        self.titleId = titleId
        self.hostId = hostId
        self.region = region
        self.hostName = hostName
        self.ports = ports
        self.secureContext = secureContext
        self.sandboxId = sandboxId
        self.cloudGameId = cloudGameId
        self.gameModeId = gameModeId
        self.healthTimeout = healthTimeout
        self.idleTimeout = idleTimeout
        self.allowedUsers = allowedUsers
        self.allowedGroups = allowedGroups
        self.logLevel = logLevel
    }

    /// Merges flags over the file over the defaults, and checks every value.
    public static func resolve(
        options: AgentOptions,
        file: AgentConfigFile,
        environment: [String: String]
    ) throws(InvalidInput) -> AgentConfiguration {
        let runtimeDirectory = firstDirectory(environment["RUNTIME_DIRECTORY"]) ?? "/run/sessionhost"
        let stateDirectory = firstDirectory(environment["STATE_DIRECTORY"]) ?? "/var/lib/sessionhost"

        var ports: [PortSpecification] = []
        for text in options.ports.isEmpty ? (file.port ?? []) : options.ports {
            let port = try PortSpecification(parsing: text)
            if ports.contains(where: { $0.name == port.name }) {
                throw InvalidInput(code: .invalidPort, message: "port name '\(port.name)' is given twice")
            }
            ports.append(port)
        }

        let secureContext = options.secureContext ?? file.secureContext ?? ""
        if !secureContext.isEmpty, Data(base64Encoded: secureContext) == nil {
            throw InvalidInput(code: .invalidSecureContext, message: "--secure-context must be base64")
        }

        let timeoutSeconds = options.healthTimeout ?? file.healthTimeout ?? 30
        guard timeoutSeconds.isFinite, timeoutSeconds >= 0, timeoutSeconds <= 86_400 else {
            throw InvalidInput(code: .invalidHealthTimeout, message: "--health-timeout must be 0 to 86400 seconds")
        }

        let idleSeconds = options.idleTimeout ?? file.idleTimeout ?? 75
        guard idleSeconds.isFinite, idleSeconds >= 1, idleSeconds <= 86_400 else {
            throw InvalidInput(code: .invalidIdleTimeout, message: "--idle-timeout must be 1 to 86400 seconds")
        }

        let hostId = options.hostId ?? file.hostId
        if let hostId { try SlotPlan.checkHostId(hostId, option: "--host-id") }
        let vmId = options.vmId ?? file.vmId
        if let vmId, vmId.isEmpty || vmId.utf8.count > HostRegistration.maximumValueLength {
            throw InvalidInput(
                code: .invalidVMId, message: "--vm-id must be 1 to \(HostRegistration.maximumValueLength) bytes")
        }

        let levelText = options.logLevel ?? file.logLevel ?? "info"
        guard let logLevel = Logger.Level(rawValue: levelText.lowercased()) else {
            throw InvalidInput(
                code: .invalidLogLevel,
                message: "--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }

        let controlPlane = try resolveControlPlane(
            url: options.controlPlane ?? file.controlPlane, tokenFile: options.agentTokenFile ?? file.agentTokenFile,
            titleId: options.titleId ?? file.titleId)

        var allowedUsers: [UInt32] = []
        for user in options.allowUsers + (file.allowUser ?? []) {
            allowedUsers.append(try AccountLookup.userID(user))
        }
        var allowedGroups: [UInt32] = []
        for group in options.allowGroups + (file.allowGroup ?? []) {
            allowedGroups.append(try AccountLookup.groupID(group))
        }

        let socketPath = options.socket ?? file.socket ?? runtimeDirectory + "/agent.sock"
        var gsdk: GSDKSettings?
        if let listen = options.gsdkListen ?? file.gsdkListen {
            let (host, port) = try GSDKSettings.parseListen(listen)
            // The GSDK state (gsdk.json) and the default log folder live in the state directory,
            // absolute: the game server resolves the folder from its own working directory.
            var gsdkStateDirectory = options.stateDir ?? file.stateDir ?? stateDirectory
            if !gsdkStateDirectory.hasPrefix("/") {
                gsdkStateDirectory = FileManager.default.currentDirectoryPath + "/" + gsdkStateDirectory
            }
            while gsdkStateDirectory.count > 1, gsdkStateDirectory.hasSuffix("/") { gsdkStateDirectory.removeLast() }
            let logFolder = options.gsdkLogFolder ?? file.gsdkLogFolder
            gsdk = GSDKSettings(
                host: host, port: port,
                configFilePath: options.gsdkConfigFile ?? file.gsdkConfigFile
                    ?? AtomicFile.parentDirectory(of: socketPath) + "/gsdkConfig.json",
                logFolder: logFolder ?? gsdkStateDirectory + "/" + GSDKSettings.defaultLogFolderName,
                createsLogFolder: logFolder == nil,
                sharedContentFolder: options.gsdkSharedContentFolder ?? file.gsdkSharedContentFolder ?? "",
                stateDirectory: gsdkStateDirectory)
        } else if options.gsdkConfigFile ?? file.gsdkConfigFile ?? options.gsdkLogFolder ?? file.gsdkLogFolder
            ?? options.gsdkSharedContentFolder ?? file.gsdkSharedContentFolder != nil
        {
            throw InvalidInput(code: .missingGSDKListen, message: "the --gsdk-* settings need --gsdk-listen HOST:PORT")
        }

        let configuration = AgentConfiguration(
            socketPath: socketPath,
            stateDirectory: options.stateDir ?? file.stateDir ?? stateDirectory,
            titleId: options.titleId ?? file.titleId ?? "",
            hostId: hostId,
            region: options.region ?? file.region ?? "local",
            hostName: options.hostname ?? file.hostname ?? AccountLookup.machineHostName(),
            ports: ports,
            secureContext: secureContext,
            sandboxId: options.sandboxId ?? file.sandboxId,
            cloudGameId: options.cloudGameId ?? file.cloudGameId,
            gameModeId: options.gameModeId ?? file.gameModeId,
            healthTimeout: timeoutSeconds == 0 ? nil : .milliseconds(Int64(timeoutSeconds * 1000)),
            idleTimeout: .milliseconds(Int64(idleSeconds * 1000)),
            allowedUsers: allowedUsers,
            allowedGroups: allowedGroups,
            logLevel: logLevel,
            controlPlane: controlPlane,
            gsdk: gsdk,
            metricsListen: try (options.metricsListen ?? file.metricsListen).map { text throws(InvalidInput) in
                try MetricsListenAddress(parsing: text)
            },
            slotCount: try SlotPlan.slotCount(flag: options.slots ?? file.slots, blocks: file.slot),
            slotPortStride: options.slotPortStride ?? file.slotPortStride,
            slotBlocks: file.slot ?? [],
            vmId: vmId,
            onDrained: (options.onDrained ?? file.onDrained).flatMap {
                $0.allSatisfy(\.isWhitespace) ? nil : $0
            }
        )
        _ = try configuration.slotPlans() // every slot's ports and ids are checked before the agent starts
        return configuration
    }

    /// `--control-plane` with `--agent-token-file` (and a title id), or neither (local mode).
    static func resolveControlPlane(url: String?, tokenFile: String?, titleId: String?) throws(InvalidInput)
        -> ControlPlaneSettings?
    {
        guard let url else {
            if tokenFile != nil {
                throw InvalidInput(code: .missingControlPlane, message: "--agent-token-file needs --control-plane URL")
            }
            return nil
        }
        _ = try ControlPlaneEndpoint(url: url)
        guard let tokenFile else {
            throw InvalidInput(
                code: .missingAgentToken,
                message: "--control-plane needs --agent-token-file FILE holding the fleet secret")
        }
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw InvalidInput(
                code: .agentTokenUnreadable,
                message:
                    "cannot read the agent token file \(tokenFile): \(FileErrorDescription.describe(path: tokenFile))")
        }
        var secret = String(decoding: data, as: UTF8.self)
        if secret.hasSuffix("\r\n") || secret.hasSuffix("\n") { secret.removeLast() }
        guard secret.utf8.count >= 32 else {
            throw InvalidInput(
                code: .agentTokenTooShort,
                message: "the agent token file \(tokenFile) holds \(secret.utf8.count) bytes; at least 32 are needed")
        }
        guard let titleId, !titleId.isEmpty else {
            throw InvalidInput(
                code: .missingTitleId, message: "--control-plane needs --title-id: the title whose pool this host joins"
            )
        }
        _ = try TitleRules.validatedTitleID(titleId)
        return ControlPlaneSettings(baseURL: url, fleetSecret: secret)
    }

    /// systemd sets `RUNTIME_DIRECTORY`/`STATE_DIRECTORY` to a colon-separated list; the first wins.
    private static func firstDirectory(_ value: String?) -> String? {
        guard let value, let first = value.split(separator: ":").first, !first.isEmpty else { return nil }
        return String(first)
    }
}
