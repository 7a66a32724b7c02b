/// A standby buffer policy of gsmsd's configuration (`"standby-buffers"`): how many hosts of a
/// title should stand by in a region, and the bounds on its VMs. gsmsd turns it into the number
/// of VMs wanted (`StandbyBufferStatus.wantedVMs`, docs/operations.md "Standby buffers").
public struct StandbyBufferPolicy: Codable, Sendable, Equatable {
    public var titleId: String
    /// The region as hosts register it (matched ignoring case and surrounding white space).
    public var region: String
    /// Hosts to keep StandingBy beyond those holding sessions. Exactly one of `bufferHosts` and
    /// `bufferPercent` is set.
    public var bufferHosts: Int?
    /// The share of all (not draining) hosts to keep StandingBy, 0 to 99 percent.
    public var bufferPercent: Double?
    /// Never fewer VMs than this (default 0).
    public var minVMs: Int
    /// Never more VMs than this.
    public var maxVMs: Int
    /// Hosts (slots) per new VM; default: the most hosts any VM of the region has, else 1.
    public var slotsPerVM: Int?

    public init(
        titleId: String, region: String, bufferHosts: Int? = nil, bufferPercent: Double? = nil, minVMs: Int = 0,
        maxVMs: Int, slotsPerVM: Int? = nil
    ) {
        self.titleId = titleId
        self.region = region
        self.bufferHosts = bufferHosts
        self.bufferPercent = bufferPercent
        self.minVMs = minVMs
        self.maxVMs = maxVMs
        self.slotsPerVM = slotsPerVM
    }
}

/// One policy's region now: what gsmsd counted and the VMs it wants (`GET /operator/v1/buffers`,
/// the `gsms_standby_*` gauges, and the body of the scaling hook).
public struct StandbyBufferStatus: Codable, Sendable, Equatable {
    public var titleId: String
    public var region: String
    public var policy: StandbyBufferPolicy
    /// Hosts StandingBy, not draining.
    public var standingBy: Int
    /// Hosts Allocating or Active, not draining.
    public var busy: Int
    /// Hosts Initializing, Terminating or Unhealthy, not draining.
    public var other: Int
    /// Hosts draining, in any state.
    public var draining: Int
    /// VMs with at least one host not draining.
    public var vms: Int
    /// VMs with a draining host.
    public var drainingVMs: Int
    /// The slots per VM the computation used.
    public var slotsPerVM: Int
    /// VMs (not draining) wanted: enough for the busy hosts plus the buffer, within the bounds.
    public var wantedVMs: Int

    public init(
        titleId: String, region: String, policy: StandbyBufferPolicy, standingBy: Int, busy: Int, other: Int,
        draining: Int, vms: Int, drainingVMs: Int, slotsPerVM: Int, wantedVMs: Int
    ) {
        self.titleId = titleId
        self.region = region
        self.policy = policy
        self.standingBy = standingBy
        self.busy = busy
        self.other = other
        self.draining = draining
        self.vms = vms
        self.drainingVMs = drainingVMs
        self.slotsPerVM = slotsPerVM
        self.wantedVMs = wantedVMs
    }
}

/// `GET /operator/v1/buffers`: every configured policy's region.
public struct StandbyBufferReport: Codable, Sendable, Equatable {
    public var buffers: [StandbyBufferStatus]

    public init(buffers: [StandbyBufferStatus]) { self.buffers = buffers }
}

/// The JSON a scaling hook receives (a command on its standard input, a webhook as its POST
/// body) when the VMs wanted for a title's region change.
public struct ScalingRequest: Codable, Sendable, Equatable {
    /// The status that changed the wanted count.
    public var buffer: StandbyBufferStatus
    /// The wanted count before, absent on the first computation after gsmsd started.
    public var previousWantedVMs: Int?
    /// ISO 8601 (UTC).
    public var at: String

    public init(buffer: StandbyBufferStatus, previousWantedVMs: Int?, at: String) {
        self.buffer = buffer
        self.previousWantedVMs = previousWantedVMs
        self.at = at
    }
}
