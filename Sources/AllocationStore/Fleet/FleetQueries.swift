public import SessionHostModel

/// Which hosts `InventoryStore.listHosts` answers: those matching every member that is set.
public struct HostFilter: Sendable, Equatable {
    public var titleId: String?
    /// Matched as `TitleRules.locationKey` (ignoring case and surrounding white space).
    public var region: String?
    /// gsmsd's state of the host.
    public var state: HostState?
    public var vmId: String?
    /// True: only draining hosts; false: only hosts not draining.
    public var draining: Bool?

    public init(
        titleId: String? = nil, region: String? = nil, state: HostState? = nil, vmId: String? = nil,
        draining: Bool? = nil
    ) {
        self.titleId = titleId
        self.region = region
        self.state = state
        self.vmId = vmId
        self.draining = draining
    }
}

/// Which sessions `InventoryStore.listSessions` answers: those matching every member that is set.
public struct SessionFilter: Sendable, Equatable {
    public var titleId: String?
    /// The region of the session's host, matched as `TitleRules.locationKey`.
    public var region: String?
    public var vmId: String?
    /// Only the session whose game last reported this player.
    public var playerId: String?

    public init(titleId: String? = nil, region: String? = nil, vmId: String? = nil, playerId: String? = nil) {
        self.titleId = titleId
        self.region = region
        self.vmId = vmId
        self.playerId = playerId
    }
}

/// Where a page of sessions starts: after this session (sessions are ordered by title, then
/// session id, as byte strings).
public struct SessionCursor: Sendable, Equatable {
    public var titleId: String
    public var sessionId: String

    public init(titleId: String, sessionId: String) {
        self.titleId = titleId
        self.sessionId = sessionId
    }
}

/// A session with its host's VM and the players its game last reported.
public struct SessionListing: Sendable, Equatable {
    public var allocation: Allocation
    public var vmId: String
    public var players: [Player]?

    public init(allocation: Allocation, vmId: String, players: [Player]?) {
        self.allocation = allocation
        self.vmId = vmId
        self.players = players
    }
}

/// One title's region at a glance, for the standby buffers (`InventoryStore.fleetCounts()`).
public struct RegionFleetCount: Sendable, Equatable {
    public var titleId: String
    /// The region as one of its hosts registered it.
    public var region: String
    /// Hosts not draining, by gsmsd's state (states without hosts are absent).
    public var hosts: [HostState: Int]
    /// Hosts draining, in any state.
    public var drainingHosts: Int
    /// VMs with at least one host not draining.
    public var vms: Int
    /// VMs with at least one draining host.
    public var drainingVMs: Int
    /// The most hosts one VM of the region has (its slots).
    public var largestVM: Int

    public init(
        titleId: String, region: String, hosts: [HostState: Int], drainingHosts: Int, vms: Int, drainingVMs: Int,
        largestVM: Int
    ) {
        self.titleId = titleId
        self.region = region
        self.hosts = hosts
        self.drainingHosts = drainingHosts
        self.vms = vms
        self.drainingVMs = drainingVMs
        self.largestVM = largestVM
    }
}
