public import FoundationEssentials
public import SessionHostModel

/// One session host as the inventory keeps it.
public struct HostRecord: Sendable, Equatable {
    public var sessionHostId: String
    /// The description the agent registered. Its `vmId` reads back `nil` when the host is a VM of
    /// its own: registered without one, or with its own host id (the two mean the same, and the
    /// store keeps the host id as its VM id). So a registration without `vmId` round-trips
    /// unchanged; `vmId` below gives the VM id in every case. Its `drain` reads back nil: the
    /// drain in force is `drain` below.
    public var registration: HostRegistration
    /// The state gsmsd gives the host (its own view, which can differ from the agent's).
    public var state: HostState
    /// The session assigned to the host (Allocating or Active), if any.
    public var sessionId: String?
    /// When the agent was last heard from.
    public var lastHeartbeat: Date
    /// When the host last became StandingBy: the longest-waiting host is allocated first.
    public var standingBySince: Date?
    /// The host's assignment revision: larger on every change of its session (claimed, confirmed,
    /// moved away, ended), never smaller, also across deregistration (see `AssignmentRevision`).
    /// Every answer to the agent carries it, so that a stale answer never overrides a newer one.
    public var revision: Int64
    /// The drain in force on the host (an operator's, or the one its agent reported), if any:
    /// a draining host is never given a session.
    public var drain: HostDrain?
    /// Its agent reported the VM drained: draining and every slot idle.
    public var drained: Bool
    /// The players the game last reported for the host's session; nil when it holds none or
    /// the game never reported any.
    public var players: [Player]?

    /// The VM the host runs on: the registered `vmId`, else the host id (a VM of its own). The
    /// packed allocation strategy counts sessions per VM id.
    public var vmId: String { registration.vmId ?? sessionHostId }

    public init(
        sessionHostId: String, registration: HostRegistration, state: HostState, sessionId: String?,
        lastHeartbeat: Date, standingBySince: Date?, revision: Int64 = 0, drain: HostDrain? = nil,
        drained: Bool = false, players: [Player]? = nil
    ) {
        self.drain = drain
        self.drained = drained
        self.players = players
        self.sessionHostId = sessionHostId
        self.registration = registration
        self.state = state
        self.sessionId = sessionId
        self.lastHeartbeat = lastHeartbeat
        self.standingBySince = standingBySince
        self.revision = revision
    }
}
