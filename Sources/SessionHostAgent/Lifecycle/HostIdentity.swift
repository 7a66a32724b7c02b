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
    /// Which of the agent's slots the host is (1…N): the GSDK's `serverInstanceNumber`.
    public var slot: Int
    /// The VM gsmsd packs by; `nil`: the host is a VM of its own.
    public var vmId: String?

    public init(configuration: AgentConfiguration) {
        titleId = configuration.titleId
        region = configuration.region
        hostName = configuration.hostName
        ports = configuration.ports
        secureContext = configuration.secureContext
        sandboxId = configuration.sandboxId
        cloudGameId = configuration.cloudGameId
        gameModeId = configuration.gameModeId
        slot = 1
        vmId = configuration.vmId
    }

    /// The identity of the slot `plan` describes, on the VM `vmId`.
    public init(configuration: AgentConfiguration, slot plan: SlotPlan, vmId: String?) {
        self.init(configuration: configuration)
        ports = plan.ports
        slot = plan.number
        self.vmId = vmId
    }
}
