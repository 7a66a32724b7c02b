public import FoundationEssentials

/// What a periodic sweep of the inventory expires.
public struct SweepPolicy: Sendable, Equatable {
    public var now: Date
    /// Hosts last heard from before this become Unhealthy (their sessions stay).
    public var liveSince: Date
    /// Hand-offs still unacknowledged whose deadline is before this are abandoned: the host
    /// becomes Unhealthy, a sessionhosts allocation is dropped, a cluster one goes back to the
    /// head of its queue.
    public var handoffsDueBefore: Date
    /// Queued cluster requests last polled before this expire.
    public var polledSince: Date

    public init(now: Date, liveSince: Date, handoffsDueBefore: Date, polledSince: Date) {
        self.now = now
        self.liveSince = liveSince
        self.handoffsDueBefore = handoffsDueBefore
        self.polledSince = polledSince
    }
}

/// What a sweep changed.
public struct SweepReport: Sendable, Equatable {
    public var hostsMarkedUnhealthy: [String]
    public var abandonedHandoffs: [SessionKey]
    public var requeuedClusters: [SessionKey]
    public var expiredTickets: [SessionKey]

    public init(
        hostsMarkedUnhealthy: [String] = [], abandonedHandoffs: [SessionKey] = [], requeuedClusters: [SessionKey] = [],
        expiredTickets: [SessionKey] = []
    ) {
        self.hostsMarkedUnhealthy = hostsMarkedUnhealthy
        self.abandonedHandoffs = abandonedHandoffs
        self.requeuedClusters = requeuedClusters
        self.expiredTickets = expiredTickets
    }

    public var isEmpty: Bool {
        hostsMarkedUnhealthy.isEmpty && abandonedHandoffs.isEmpty && requeuedClusters.isEmpty && expiredTickets.isEmpty
    }
}

/// A session's identity: session ids are unique within a title.
public struct SessionKey: Sendable, Hashable, CustomStringConvertible {
    public var titleId: String
    public var sessionId: String

    public init(titleId: String, sessionId: String) {
        self.titleId = titleId
        self.sessionId = sessionId
    }

    public var description: String { "\(titleId)/\(sessionId)" }
}
