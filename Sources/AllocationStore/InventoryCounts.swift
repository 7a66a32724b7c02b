public import FoundationEssentials
public import SessionHostModel

/// How many hosts of a title in a region are in a state (`InventoryStore.hostCounts()`).
public struct HostCount: Sendable, Equatable {
    public var titleId: String
    /// The region as the hosts registered it.
    public var region: String
    public var state: HostState
    public var count: Int

    public init(titleId: String, region: String, state: HostState, count: Int) {
        self.titleId = titleId
        self.region = region
        self.state = state
        self.count = count
    }
}

/// A title's cluster queue at a glance (`InventoryStore.queueSummaries()`).
public struct QueueSummary: Sendable, Equatable {
    public var titleId: String
    /// Queued cluster requests.
    public var length: Int
    /// When the request at the head of the queue first queued.
    public var oldestEnqueuedAt: Date

    public init(titleId: String, length: Int, oldestEnqueuedAt: Date) {
        self.titleId = titleId
        self.length = length
        self.oldestEnqueuedAt = oldestEnqueuedAt
    }
}
