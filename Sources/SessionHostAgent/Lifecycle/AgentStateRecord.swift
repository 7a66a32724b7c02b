import SessionHostModel

/// The session a host holds.
public struct SessionRecord: Codable, Sendable, Equatable {
    public var sessionId: String
    public var sessionCookie: String?
    /// ISO 8601 (UTC) time the agent accepted the hand-off.
    public var allocatedAt: String
    /// gsmsd's assignment revision of the host when the agent learnt of this session (the
    /// hand-off's, then the confirmation's). Only an answer with a larger revision can take the
    /// session away; absent in state files of older agents.
    public var revision: Int64?

    public init(sessionId: String, sessionCookie: String?, allocatedAt: String, revision: Int64? = nil) {
        self.sessionId = sessionId
        self.sessionCookie = sessionCookie
        self.allocatedAt = allocatedAt
        self.revision = revision
    }

    /// Whether an answer of gsmsd at `revision` is newer than what the agent knew when it learnt
    /// of this session, so that it may take it away. Without revisions (an older gsmsd or state
    /// file), every answer may.
    public func isSuperseded(by revision: Int64?) -> Bool {
        guard let revision, let known = self.revision else { return true }
        return revision > known
    }
}

/// What the agent keeps on disk: its identity, its lifecycle state and its session.
public struct AgentStateRecord: Codable, Sendable, Equatable {
    /// Format of the state file; bumped when it changes incompatibly.
    public static let currentFormat = 1

    public var format: Int
    public var sessionHostId: String
    public var state: HostState
    /// Where an Unhealthy host returns once it is healthy again.
    public var stateBeforeUnhealthy: HostState?
    public var session: SessionRecord?
    /// A hand-off saved while its acknowledgement is on its way: the game does not see it until
    /// gsmsd confirms it (then it becomes `session`). Kept on disk so that an agent restarted in
    /// between can still finish it, from gsmsd's answer.
    public var unconfirmedHandoff: SessionRecord?
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
