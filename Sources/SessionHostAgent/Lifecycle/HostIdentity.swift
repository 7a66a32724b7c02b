import SessionHostModel

/// The facts about a host that come from configuration, not from its lifecycle.
public struct HostIdentity: Sendable, Equatable {
    public var titleId: String
    public var region: String
    public var hostName: String
    public var ports: [PortSpecification]
    public var secureContext: String
    public var sandboxId: String?
    public var cloudGameId: String?
    public var gameModeId: String?

    public init(configuration: AgentConfiguration) {
        titleId = configuration.titleId
        region = configuration.region
        hostName = configuration.hostName
        ports = configuration.ports
        secureContext = configuration.secureContext
        sandboxId = configuration.sandboxId
        cloudGameId = configuration.cloudGameId
        gameModeId = configuration.gameModeId
    }
}
