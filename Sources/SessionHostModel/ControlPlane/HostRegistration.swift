/// `PUT /agent/v1/hosts/{sessionHostId}`: an agent registers its host with gsmsd or updates its
/// description. The agent sends `state` `StandingBy` when its game called ready, `Initializing`
/// before that. Assignments stay gsmsd's: a host holding a session keeps it.
public struct HostRegistration: Codable, Sendable, Equatable {
    public var titleId: String
    public var region: String
    public var hostName: String
    public var portMappings: [PortMapping]
    public var secureContext: String
    public var sandboxId: String?
    public var cloudGameId: String?
    public var gameModeId: String?
    /// The machine (VM) the host runs on: an agent with several slots registers each with the
    /// same `vmId`, and gsmsd's packed allocation strategy prefers VMs that already run sessions,
    /// so that whole VMs empty out. Absent: the host is a VM of its own (its id).
    public var vmId: String?
    /// `Initializing` or `StandingBy` (anything else is refused).
    public var state: HostState
    /// The game's health as the agent last saw it.
    public var health: GameHealth
    /// A drain the agent holds (asked for on the VM, or by gsmsd before a restart): gsmsd never
    /// gives the host a session while it is draining.
    public var drain: DrainNotice?

    /// The most port mappings one host may declare.
    public static let maximumPortMappings = 64
    /// The longest region, host name or id value.
    public static let maximumValueLength = 256
    /// The longest secure context.
    public static let maximumSecureContextBytes = 4096

    public init(
        titleId: String, region: String, hostName: String, portMappings: [PortMapping], secureContext: String,
        sandboxId: String? = nil, cloudGameId: String? = nil, gameModeId: String? = nil, vmId: String? = nil,
        state: HostState = .standingBy, health: GameHealth = .healthy, drain: DrainNotice? = nil
    ) {
        self.vmId = vmId
        self.drain = drain
        self.titleId = titleId
        self.region = region
        self.hostName = hostName
        self.portMappings = portMappings
        self.secureContext = secureContext
        self.sandboxId = sandboxId
        self.cloudGameId = cloudGameId
        self.gameModeId = gameModeId
        self.state = state
        self.health = health
    }

    /// Checks lengths, ports and the requested state.
    public func validate() throws(InvalidInput) {
        _ = try TitleRules.validatedTitleID(titleId)
        for (name, value) in [("region", region), ("hostName", hostName)] {
            if value.isEmpty || value.utf8.count > Self.maximumValueLength {
                throw InvalidInput(
                    code: .invalidRegistration, message: "\(name) must be 1 to \(Self.maximumValueLength) bytes")
            }
        }
        if TitleRules.locationKey(region).isEmpty {
            throw InvalidInput(code: .invalidRegistration, message: "region must not be only white space")
        }
        for (name, value) in [
            ("sandboxId", sandboxId), ("cloudGameId", cloudGameId), ("gameModeId", gameModeId), ("vmId", vmId),
        ] {
            if let value, value.utf8.count > Self.maximumValueLength {
                throw InvalidInput(
                    code: .invalidRegistration, message: "\(name) is longer than \(Self.maximumValueLength) bytes")
            }
        }
        if secureContext.utf8.count > Self.maximumSecureContextBytes {
            throw InvalidInput(
                code: .invalidRegistration,
                message: "secureContext is longer than \(Self.maximumSecureContextBytes) bytes")
        }
        if portMappings.count > Self.maximumPortMappings {
            throw InvalidInput(code: .invalidRegistration, message: "at most \(Self.maximumPortMappings) port mappings")
        }
        for mapping in portMappings {
            guard !mapping.name.isEmpty, mapping.name.utf8.count <= 64,
                (1...65535).contains(mapping.ports.internal), (1...65535).contains(mapping.ports.external)
            else {
                throw InvalidInput(
                    code: .invalidRegistration,
                    message: "port mapping '\(mapping.name.prefix(64))' needs a name and ports 1 to 65535")
            }
        }
        guard state == .initializing || state == .standingBy else {
            throw InvalidInput(
                code: .invalidRegistration, message: "state must be Initializing or StandingBy when registering")
        }
        if let drain { try drain.validate() }
    }
}

/// `POST /agent/v1/hosts/{sessionHostId}/heartbeat`: the agent is alive; what it and its game see.
public struct HostHeartbeat: Codable, Sendable, Equatable {
    /// The agent's own view of its state.
    public var state: HostState
    /// The session the agent holds, if any.
    public var sessionId: String?
    public var health: GameHealth
    /// The newest assignment revision the agent has seen (`HostStatus.revision`). gsmsd takes a
    /// report based on an older revision as a sign of life only: it was made before the host's
    /// assignment last changed. Absent from older agents (never stale).
    public var revision: Int64?
    /// A drain the agent holds (see `HostRegistration.drain`).
    public var drain: DrainNotice?
    /// Draining, and every slot of the VM is idle: the VM can be removed.
    public var drained: Bool?
    /// The players the game last reported for the host's session (at most `maximumPlayers`).
    public var players: [Player]?

    /// The most players one heartbeat may list.
    public static let maximumPlayers = 256

    public init(
        state: HostState, sessionId: String? = nil, health: GameHealth = .healthy, revision: Int64? = nil,
        drain: DrainNotice? = nil, drained: Bool? = nil, players: [Player]? = nil
    ) {
        self.drain = drain
        self.drained = drained
        self.players = players
        self.state = state
        self.sessionId = sessionId
        self.health = health
        self.revision = revision
    }

    /// Checks the drain and the players.
    public func validate() throws(InvalidInput) {
        if let drain { try drain.validate() }
        if let players {
            if players.count > Self.maximumPlayers {
                throw InvalidInput(
                    code: .invalidRegistration, message: "a heartbeat lists at most \(Self.maximumPlayers) players")
            }
            for player in players where player.playerId.isEmpty || player.playerId.utf8.count > 256 {
                throw InvalidInput(code: .invalidRegistration, message: "each playerId must be 1 to 256 bytes")
            }
        }
    }
}

/// The body of `…/ack` and `…/end`: which session the agent means.
public struct HostSessionReference: Codable, Sendable, Equatable {
    public var sessionId: String

    public init(sessionId: String) { self.sessionId = sessionId }
}
