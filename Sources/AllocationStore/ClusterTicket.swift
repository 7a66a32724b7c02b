public import FoundationEssentials

/// A cluster request waiting in its title's first-in first-out queue.
public struct ClusterTicket: Sendable, Equatable {
    public var titleId: String
    public var sessionId: String
    /// When it first queued; the queue is served in this order.
    public var enqueuedAt: Date
    /// When its caller last polled; tickets not polled for the queue timeout expire.
    public var lastPolledAt: Date
    /// 1-based place in the title's queue.
    public var position: Int

    public init(titleId: String, sessionId: String, enqueuedAt: Date, lastPolledAt: Date, position: Int) {
        self.titleId = titleId
        self.sessionId = sessionId
        self.enqueuedAt = enqueuedAt
        self.lastPolledAt = lastPolledAt
        self.position = position
    }
}
