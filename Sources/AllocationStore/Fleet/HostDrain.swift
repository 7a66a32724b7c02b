public import FoundationEssentials
public import SessionHostModel

/// A drain as the inventory keeps it on a host (`HostRecord.drain`): the host gets no new
/// session; see `DrainNotice` for what the agent and the game are told.
public struct HostDrain: Sendable, Equatable {
    public var deadline: Date
    public var source: DrainSource
    public var reason: String?

    public init(deadline: Date, source: DrainSource, reason: String? = nil) {
        self.deadline = deadline
        self.source = source
        self.reason = reason
    }

    /// The drain as the wire carries it.
    public var notice: DrainNotice {
        DrainNotice(deadline: DrainNotice.timestamp(deadline), source: source, reason: reason)
    }

    /// The drain a notice describes; nil when its deadline is not a time.
    public init?(_ notice: DrainNotice) {
        guard let deadline = notice.deadlineDate else { return nil }
        self.init(deadline: deadline, source: notice.source, reason: notice.reason)
    }
}

/// Which hosts an operator's drain covers (`InventoryStore.drain`): those matching every member
/// that is set. At least one is set.
public struct DrainScope: Sendable, Equatable {
    public var titleId: String?
    /// Matched as `TitleRules.locationKey` (ignoring case and surrounding white space).
    public var region: String?
    public var vmId: String?

    public init(titleId: String? = nil, region: String? = nil, vmId: String? = nil) {
        self.titleId = titleId
        self.region = region
        self.vmId = vmId
    }
}
