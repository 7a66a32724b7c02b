/// gsmsd's view of one host, the answer to every agent-facing call: the source of truth for
/// assignments that the agent converges to.
public struct HostStatus: Codable, Sendable, Equatable {
    public var sessionHostId: String
    public var titleId: String
    public var state: HostState
    /// The session gsmsd has assigned to this host (Allocating or Active), if any.
    public var sessionId: String?
    public var sessionCookie: String?
    /// ISO 8601 (UTC) time of the allocation.
    public var allocatedAt: String?
    /// How often gsmsd expects a heartbeat.
    public var heartbeatIntervalMilliseconds: Int
    /// The host's assignment revision when gsmsd answered: larger on every change of the host's
    /// session. An agent ignores an answer older than one it has already seen.
    public var revision: Int64?
    /// The drain in force on the host (an operator's, or the one the agent reported), if any:
    /// the agent tells its game and reports Drained once every slot is idle.
    public var drain: DrainNotice?

    public init(
        sessionHostId: String, titleId: String, state: HostState, sessionId: String? = nil,
        sessionCookie: String? = nil, allocatedAt: String? = nil, heartbeatIntervalMilliseconds: Int,
        revision: Int64? = nil, drain: DrainNotice? = nil
    ) {
        self.drain = drain
        self.sessionHostId = sessionHostId
        self.titleId = titleId
        self.state = state
        self.sessionId = sessionId
        self.sessionCookie = sessionCookie
        self.allocatedAt = allocatedAt
        self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
        self.revision = revision
    }
}

/// `GET /agent/v1/hosts/{sessionHostId}/handoff?wait=SECONDS`: a session for this host, to be
/// saved by the agent and then acknowledged before `acknowledgeBy`.
public struct Handoff: Codable, Sendable, Equatable {
    public var sessionHostId: String
    public var titleId: String
    public var sessionId: String
    public var sessionCookie: String?
    /// ISO 8601 (UTC).
    public var allocatedAt: String
    /// ISO 8601 (UTC): after this the allocation moves on and an acknowledgement gets 409.
    public var acknowledgeBy: String
    /// The host's assignment revision when gsmsd answered (see `HostStatus.revision`).
    public var revision: Int64?

    public init(
        sessionHostId: String, titleId: String, sessionId: String, sessionCookie: String?,
        allocatedAt: String, acknowledgeBy: String, revision: Int64? = nil
    ) {
        self.sessionHostId = sessionHostId
        self.titleId = titleId
        self.sessionId = sessionId
        self.sessionCookie = sessionCookie
        self.allocatedAt = allocatedAt
        self.acknowledgeBy = acknowledgeBy
        self.revision = revision
    }
}
