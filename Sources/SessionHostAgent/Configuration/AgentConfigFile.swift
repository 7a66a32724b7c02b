#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SessionHostModel

/// The configuration file of `sessionhostd`: a JSON object whose keys are the long flag names
/// (`"title-id"`, `"port"`, …). Unknown keys are refused so that a typo does not pass silently.
public struct AgentConfigFile: Decodable, Sendable, Equatable {
    public var socket: String?
    public var stateDir: String?
    public var controlPlane: String?
    public var agentTokenFile: String?
    public var titleId: String?
    public var hostId: String?
    public var region: String?
    public var hostname: String?
    public var port: [String]?
    public var secureContext: String?
    public var sandboxId: String?
    public var cloudGameId: String?
    public var gameModeId: String?
    public var healthTimeout: Double?
    public var idleTimeout: Double?
    public var allowUser: [String]?
    public var allowGroup: [String]?
    public var logLevel: String?
    public var gsdkListen: String?
    public var gsdkConfigFile: String?
    public var gsdkLogFolder: String?
    public var gsdkSharedContentFolder: String?
    public var metricsListen: String?
    public var slots: Int?
    public var slotPortStride: Int?
    public var vmId: String?
    public var onDrained: String?
    /// One block per slot, in slot order: each may name its host id and ports.
    public var slot: [SlotBlock]?

    /// A `"slot"` block of the file: what one slot changes from the agent's settings.
    public struct SlotBlock: Decodable, Sendable, Equatable {
        public var hostId: String?
        public var port: [String]?

        public init(hostId: String? = nil, port: [String]? = nil) {
            self.hostId = hostId
            self.port = port
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case hostId = "host-id"
            case port
        }

        public init(from decoder: any Decoder) throws {
            try ConfigFile.rejectUnknownKeys(in: decoder, known: CodingKeys.allCases.map(\.rawValue))
            let container = try decoder.container(keyedBy: CodingKeys.self)
            hostId = try container.decodeIfPresent(String.self, forKey: .hostId)
            port = try container.decodeIfPresent([String].self, forKey: .port)
        }
    }

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case socket
        case stateDir = "state-dir"
        case controlPlane = "control-plane"
        case agentTokenFile = "agent-token-file"
        case titleId = "title-id"
        case hostId = "host-id"
        case region, hostname, port
        case secureContext = "secure-context"
        case sandboxId = "sandbox-id"
        case cloudGameId = "cloud-game-id"
        case gameModeId = "game-mode-id"
        case healthTimeout = "health-timeout"
        case idleTimeout = "idle-timeout"
        case allowUser = "allow-user"
        case allowGroup = "allow-group"
        case logLevel = "log-level"
        case gsdkListen = "gsdk-listen"
        case gsdkConfigFile = "gsdk-config-file"
        case gsdkLogFolder = "gsdk-log-folder"
        case gsdkSharedContentFolder = "gsdk-shared-content-folder"
        case metricsListen = "metrics-listen"
        case slots
        case slotPortStride = "slot-port-stride"
        case vmId = "vm-id"
        case onDrained = "on-drained"
        case slot
    }

    public init(from decoder: any Decoder) throws {
        try ConfigFile.rejectUnknownKeys(in: decoder, known: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        socket = try container.decodeIfPresent(String.self, forKey: .socket)
        stateDir = try container.decodeIfPresent(String.self, forKey: .stateDir)
        controlPlane = try container.decodeIfPresent(String.self, forKey: .controlPlane)
        agentTokenFile = try container.decodeIfPresent(String.self, forKey: .agentTokenFile)
        titleId = try container.decodeIfPresent(String.self, forKey: .titleId)
        hostId = try container.decodeIfPresent(String.self, forKey: .hostId)
        region = try container.decodeIfPresent(String.self, forKey: .region)
        hostname = try container.decodeIfPresent(String.self, forKey: .hostname)
        port = try container.decodeIfPresent([String].self, forKey: .port)
        secureContext = try container.decodeIfPresent(String.self, forKey: .secureContext)
        sandboxId = try container.decodeIfPresent(String.self, forKey: .sandboxId)
        cloudGameId = try container.decodeIfPresent(String.self, forKey: .cloudGameId)
        gameModeId = try container.decodeIfPresent(String.self, forKey: .gameModeId)
        healthTimeout = try container.decodeIfPresent(Double.self, forKey: .healthTimeout)
        idleTimeout = try container.decodeIfPresent(Double.self, forKey: .idleTimeout)
        allowUser = try container.decodeIfPresent([String].self, forKey: .allowUser)
        allowGroup = try container.decodeIfPresent([String].self, forKey: .allowGroup)
        logLevel = try container.decodeIfPresent(String.self, forKey: .logLevel)
        gsdkListen = try container.decodeIfPresent(String.self, forKey: .gsdkListen)
        gsdkConfigFile = try container.decodeIfPresent(String.self, forKey: .gsdkConfigFile)
        gsdkLogFolder = try container.decodeIfPresent(String.self, forKey: .gsdkLogFolder)
        gsdkSharedContentFolder = try container.decodeIfPresent(String.self, forKey: .gsdkSharedContentFolder)
        metricsListen = try container.decodeIfPresent(String.self, forKey: .metricsListen)
        slots = try container.decodeIfPresent(Int.self, forKey: .slots)
        slotPortStride = try container.decodeIfPresent(Int.self, forKey: .slotPortStride)
        vmId = try container.decodeIfPresent(String.self, forKey: .vmId)
        onDrained = try container.decodeIfPresent(String.self, forKey: .onDrained)
        slot = try container.decodeIfPresent([SlotBlock].self, forKey: .slot)
    }

    /// Reads and decodes the file at `path`, with errors that name the file and the problem.
    public static func load(path: String) throws(InvalidInput) -> AgentConfigFile {
        try ConfigFile.load(AgentConfigFile.self, path: path)
    }
}
