import SessionHostModel

/// The session a host holds.
public struct SessionRecord: Codable, Sendable, Equatable {
    public var sessionId: String
    public var sessionCookie: String?
    /// ISO 8601 (UTC) time the agent accepted the hand-off.
    public var allocatedAt: String

    public init(sessionId: String, sessionCookie: String?, allocatedAt: String) {
        self.sessionId = sessionId
        self.sessionCookie = sessionCookie
        self.allocatedAt = allocatedAt
    }
}

/// What the agent keeps on disk: its identity, its lifecycle state and its session.
public struct HostRecord: Codable, Sendable, Equatable {
    /// Format of the state file; bumped when it changes incompatibly.
    public static let currentFormat = 1

    public var format: Int
    public var sessionHostId: String
    public var state: HostState
    /// Where an Unhealthy host returns once it is healthy again.
    public var stateBeforeUnhealthy: HostState?
    public var session: SessionRecord?
    /// A session the game ended that gsmsd has not been told about yet.
    public var unreportedEnd: String?

    public init(
        sessionHostId: String, state: HostState = .initializing,
        stateBeforeUnhealthy: HostState? = nil, session: SessionRecord? = nil
    ) {
        self.format = Self.currentFormat
        self.sessionHostId = sessionHostId
        self.state = state
        self.stateBeforeUnhealthy = stateBeforeUnhealthy
        self.session = session
    }
}
