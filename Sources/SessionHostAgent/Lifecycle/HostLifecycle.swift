import SessionHostModel

/// The rules of the host lifecycle (SPEC §1), as pure transitions on a `AgentStateRecord`.
/// It does no I/O; `HostAgent` saves the record and tells listeners.
public struct HostLifecycle: Sendable, Equatable {
    public private(set) var record: AgentStateRecord

    public init(record: AgentStateRecord) {
        self.record = record
    }

    public var state: HostState { record.state }
    public var session: SessionRecord? { record.session }

    /// States in which a game that stops heartbeating makes the host Unhealthy.
    public static let monitoredStates: Set<HostState> = [.standingBy, .allocating, .active]

    /// `POST /v1/ready`: the game is ready for players. Idempotent in StandingBy.
    public mutating func ready() throws(AgentError) {
        switch record.state {
        case .initializing, .terminating, .standingBy:
            record.state = .standingBy
        case .unhealthy where record.session == nil:
            // Calling ready is a sign of life: the host is healthy and ready again.
            record.state = .standingBy
            record.stateBeforeUnhealthy = nil
        case .allocating, .active, .unhealthy:
            throw .wrongState(
                "the host holds session \(record.session?.sessionId ?? "?"); end it with POST /v1/session/end before calling ready"
            )
        }
    }

    /// A hand-off: the host takes `sessionId`. Only a StandingBy host takes a new session;
    /// handing over the session the host already holds is answered as a success (idempotent).
    public mutating func allocate(sessionId: String, cookie: String?, at time: String) throws(AgentError) {
        let validID: String
        do {
            validID = try SessionRules.validatedSessionID(sessionId)
            try SessionRules.validateCookie(cookie)
        } catch {
            throw .badRequest(error)
        }
        if let current = record.session {
            if current.sessionId == validID, current.sessionCookie == cookie { return }
            throw .wrongState("the host already holds session \(current.sessionId)")
        }
        guard record.state == .standingBy || record.state == .allocating else {
            throw .wrongState("the host is \(record.state.rawValue); only a StandingBy host takes a session")
        }
        record.session = SessionRecord(sessionId: validID, sessionCookie: cookie, allocatedAt: time)
        record.state = .active
    }

    /// A hand-off from gsmsd (any session id it chose: a GUID, or a cluster's session path),
    /// taken by a StandingBy host but not shown to the game: it waits as `unconfirmedHandoff`
    /// until gsmsd confirms the acknowledgement (`confirm`). A hand-off of the session the host
    /// already holds, or already waits on, changes nothing.
    public mutating func reserve(_ handoff: Handoff) throws(AgentError) {
        guard !handoff.sessionId.isEmpty, handoff.sessionId.unicodeScalars.count <= 1024 else {
            throw .malformed("gsmsd handed over an empty or over-long session id")
        }
        if let current = record.session {
            if current.sessionId == handoff.sessionId { return }
            throw .wrongState("the host already holds session \(current.sessionId)")
        }
        if record.unconfirmedHandoff?.sessionId == handoff.sessionId { return }
        guard record.state == .standingBy else {
            throw .wrongState("the host is \(record.state.rawValue); only a StandingBy host takes a session")
        }
        record.unconfirmedHandoff = SessionRecord(
            sessionId: handoff.sessionId, sessionCookie: handoff.sessionCookie, allocatedAt: handoff.allocatedAt,
            revision: handoff.revision)
    }

    /// gsmsd confirmed the acknowledgement of `sessionId`: the waiting hand-off becomes the host's
    /// session, and the game sees it. False when no hand-off of that session waits (nothing
    /// changes; the caller takes the session from gsmsd's answer with `adopt`).
    /// `revision` is that of gsmsd's confirming answer.
    public mutating func confirm(sessionId: String, revision: Int64?) -> Bool {
        if record.session?.sessionId == sessionId { return true }
        guard var waiting = record.unconfirmedHandoff, waiting.sessionId == sessionId, record.session == nil else {
            return false
        }
        if let revision { waiting.revision = max(waiting.revision ?? revision, revision) }
        record.unconfirmedHandoff = nil
        record.session = waiting
        record.state = .active
        record.stateBeforeUnhealthy = nil
        return true
    }

    /// gsmsd refused the hand-off of `sessionId`, or its acknowledgement went unanswered until
    /// its deadline: it is forgotten. The game never saw it, so its state does not change.
    public mutating func forgetUnconfirmed(sessionId: String) {
        if record.unconfirmedHandoff?.sessionId == sessionId { record.unconfirmedHandoff = nil }
    }

    /// gsmsd, the source of truth for assignments, says the host holds `session` (the agent lost
    /// its state): the host takes it, whatever it was doing, unless it holds another session.
    public mutating func adopt(_ session: SessionRecord) {
        guard record.session == nil else { return }
        record.unconfirmedHandoff = nil
        record.session = session
        record.state = .active
        record.stateBeforeUnhealthy = nil
    }

    /// gsmsd does not (or no longer) assign `sessionId` to this host: the session is dropped and
    /// the host waits for its game to call ready again.
    public mutating func drop(sessionId: String) {
        guard record.session?.sessionId == sessionId else { return }
        record.session = nil
        record.state = .terminating
        record.stateBeforeUnhealthy = nil
    }

    /// gsmsd has been told that `sessionId` ended.
    public mutating func endReported(sessionId: String) {
        if record.unreportedEnd == sessionId { record.unreportedEnd = nil }
    }

    /// `POST /v1/session/end`: the game finished its session; the host is released.
    public mutating func endSession() throws(AgentError) {
        guard let session = record.session, record.state == .active || record.state == .unhealthy else {
            throw .wrongState("the host is \(record.state.rawValue) and holds no session to end")
        }
        record.unreportedEnd = session.sessionId
        record.session = nil
        record.state = .terminating
        record.stateBeforeUnhealthy = nil
    }

    /// The game reports its health. Unhealthy takes the host out of service; Healthy (or a
    /// heartbeat without health) brings an Unhealthy host back to where it was.
    public mutating func heartbeat(health: GameHealth?) {
        switch (health ?? .healthy, record.state) {
        case (.unhealthy, .unhealthy):
            break
        case (.unhealthy, let state):
            record.stateBeforeUnhealthy = state
            record.state = .unhealthy
        case (.healthy, .unhealthy):
            recover()
        case (.healthy, _):
            break
        }
    }

    /// The game missed its heartbeats for the health timeout.
    public mutating func heartbeatsMissed() {
        guard Self.monitoredStates.contains(record.state) else { return }
        record.stateBeforeUnhealthy = record.state
        record.state = .unhealthy
    }

    private mutating func recover() {
        let previous = record.stateBeforeUnhealthy ?? .standingBy
        if record.session != nil {
            record.state = .active
        } else {
            record.state = previous == .active || previous == .allocating ? .standingBy : previous
        }
        record.stateBeforeUnhealthy = nil
    }
}
