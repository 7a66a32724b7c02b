import SessionHostModel

/// The configuration file of `gsmsd`: a JSON object whose keys are the long flag names,
/// e.g. `{"listen": "0.0.0.0:8080", "title": ["1234"], "token-key-file": "/etc/gsms/token.key"}`.
public struct ServiceConfigFile: Decodable, Sendable, Equatable {
    public var listen: String?
    public var database: String?
    public var title: [String]?
    public var tokenKeyFile: String?
    public var agentTokenFile: String?
    public var operatorTokenFile: String?
    public var handoffTimeout: Double?
    public var hostTimeout: Double?
    public var queueTimeout: Double?
    public var idleTimeout: Double?
    public var allocationStrategy: String?
    public var logLevel: String?
    /// `"standby-buffers"`: the standby buffer policies (no flag).
    public var standbyBuffers: [StandbyBufferConfigEntry]?
    /// `"scaling-hook"`: what is told the VMs wanted (no flag).
    public var scalingHook: ScalingHookConfigEntry?
    /// `"buffer-interval"`: seconds between two computations of the standby buffers (no flag).
    public var bufferInterval: Double?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, database, title
        case tokenKeyFile = "token-key-file"
        case agentTokenFile = "agent-token-file"
        case operatorTokenFile = "operator-token-file"
        case handoffTimeout = "handoff-timeout"
        case hostTimeout = "host-timeout"
        case queueTimeout = "queue-timeout"
        case idleTimeout = "idle-timeout"
        case allocationStrategy = "allocation-strategy"
        case logLevel = "log-level"
        case standbyBuffers = "standby-buffers"
        case scalingHook = "scaling-hook"
        case bufferInterval = "buffer-interval"
    }

    public init(from decoder: any Decoder) throws {
        try ConfigFile.rejectUnknownKeys(in: decoder, known: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        listen = try container.decodeIfPresent(String.self, forKey: .listen)
        database = try container.decodeIfPresent(String.self, forKey: .database)
        title = try container.decodeIfPresent([String].self, forKey: .title)
        tokenKeyFile = try container.decodeIfPresent(String.self, forKey: .tokenKeyFile)
        agentTokenFile = try container.decodeIfPresent(String.self, forKey: .agentTokenFile)
        operatorTokenFile = try container.decodeIfPresent(String.self, forKey: .operatorTokenFile)
        handoffTimeout = try container.decodeIfPresent(Double.self, forKey: .handoffTimeout)
        hostTimeout = try container.decodeIfPresent(Double.self, forKey: .hostTimeout)
        queueTimeout = try container.decodeIfPresent(Double.self, forKey: .queueTimeout)
        idleTimeout = try container.decodeIfPresent(Double.self, forKey: .idleTimeout)
        allocationStrategy = try container.decodeIfPresent(String.self, forKey: .allocationStrategy)
        logLevel = try container.decodeIfPresent(String.self, forKey: .logLevel)
        do {
            standbyBuffers = try container.decodeIfPresent([StandbyBufferConfigEntry].self, forKey: .standbyBuffers)
        } catch let error as InvalidInput {
            throw error
        } catch {
            throw InvalidInput(
                code: .invalidStandbyBuffer,
                message:
                    "standby-buffers must be an array of objects such as {\"title\": \"1234\", \"region\": \"westus\", \"buffer\": 4, \"max-vms\": 50}"
            )
        }
        scalingHook = try container.decodeIfPresent(ScalingHookConfigEntry.self, forKey: .scalingHook)
        do {
            bufferInterval = try container.decodeIfPresent(Double.self, forKey: .bufferInterval)
        } catch {
            throw InvalidInput(
                code: .invalidStandbyBuffer, message: "buffer-interval must be a number of seconds, 0.1 to 3600")
        }
    }
}
