/// How a cluster request stands (SPEC §2).
public enum FulfillmentState: String, Codable, Sendable, CaseIterable {
    /// A host was allocated; the body carries the host members.
    case fulfilled = "Fulfilled"
    /// Waiting for a host to become StandingBy; post the same sessionId again to poll.
    case queued = "Queued"
    /// No host was free and the request said `abortIfQueued`.
    case aborted = "Aborted"
}

/// The 200 body of `POST /titles/{titleId}/clusters`.
public struct ClusterResponse: Codable, Sendable, Equatable {
    /// How long to wait before polling again, from the queue and the measured rates.
    public var pollIntervalMilliseconds: Int
    public var fulfillmentState: FulfillmentState
    /// 1-based place in the title's queue while `Queued`.
    public var queuePosition: Int?
    // Once Fulfilled, the members of the sessionhosts response.
    public var hostName: String?
    public var portMappings: [PortMapping]?
    public var region: String?
    public var secureContext: String?
    public var sessionId: String?
    public var sessionHostId: String?

    public init(
        pollIntervalMilliseconds: Int, fulfillmentState: FulfillmentState, queuePosition: Int? = nil,
        allocation: SessionHostAllocation? = nil
    ) {
        self.pollIntervalMilliseconds = pollIntervalMilliseconds
        self.fulfillmentState = fulfillmentState
        self.queuePosition = queuePosition
        self.hostName = allocation?.hostName
        self.portMappings = allocation?.portMappings
        self.region = allocation?.region
        self.secureContext = allocation?.secureContext
        self.sessionId = allocation?.sessionId
        self.sessionHostId = allocation?.sessionHostId
    }
}
