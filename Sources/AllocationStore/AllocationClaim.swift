public import FoundationEssentials

/// Which hosts may serve a request (SPEC §2): a host that declared a sandbox, cloud game or game
/// mode serves only requests with the same value (compared ignoring case), one that declared none
/// serves any; with `locations`, only hosts in those regions, tried strictly in order.
public struct HostCriteria: Sendable, Equatable {
    public var sandboxId: String?
    public var cloudGameId: String?
    public var gameModeId: String?
    /// Preferred locations in order; empty means any region.
    public var locations: [String]

    public init(
        sandboxId: String? = nil, cloudGameId: String? = nil, gameModeId: String? = nil, locations: [String] = []
    ) {
        self.sandboxId = sandboxId
        self.cloudGameId = cloudGameId
        self.gameModeId = gameModeId
        self.locations = locations
    }
}

/// A request to put a session on a host, with everything the store needs to decide in one
/// transaction.
public struct AllocationClaim: Sendable, Equatable {
    public var titleId: String
    public var sessionId: String
    public var kind: AllocationKind
    public var criteria: HostCriteria
    public var sessionCookie: String?
    /// Now, as the service's clock says.
    public var now: Date
    /// Hosts last heard from before this are not candidates (now minus the host timeout).
    public var liveSince: Date
    /// The claimed host's agent must acknowledge before this.
    public var acknowledgeBy: Date
    /// Hosts not to claim although they match: their hand-off channel is known to be down.
    public var unreachableHostIds: Set<String>
    /// How to choose among the matching hosts of one location (also when a hand-off moves on).
    public var strategy: AllocationStrategy

    public init(
        titleId: String, sessionId: String, kind: AllocationKind, criteria: HostCriteria, sessionCookie: String?,
        now: Date, liveSince: Date, acknowledgeBy: Date, unreachableHostIds: Set<String> = [],
        strategy: AllocationStrategy = .packed
    ) {
        self.titleId = titleId
        self.sessionId = sessionId
        self.kind = kind
        self.criteria = criteria
        self.sessionCookie = sessionCookie
        self.now = now
        self.liveSince = liveSince
        self.acknowledgeBy = acknowledgeBy
        self.unreachableHostIds = unreachableHostIds
        self.strategy = strategy
    }
}

/// What a claim came to.
public enum ClaimOutcome: Sendable, Equatable {
    /// A host was claimed: it is Allocating and waits for its agent's acknowledgement.
    case claimed(Allocation)
    /// The session is already Active on a host: nothing new was allocated.
    case active(Allocation)
    /// The session is being allocated right now and is not Active yet.
    case inFlight(Allocation)
    /// No live StandingBy host matches.
    case noHost
}
