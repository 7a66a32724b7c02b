/// The answer to `GET /agent/v1/hosts/{sessionHostId}/handoff?wait=SECONDS`: the hand-off, or no
/// member when the wait ended without one.
public struct HandoffPoll: Codable, Sendable, Equatable {
    public var handoff: Handoff?

    public init(handoff: Handoff?) { self.handoff = handoff }
}

/// The answer to `DELETE /agent/v1/hosts/{sessionHostId}`.
public struct Deregistration: Codable, Sendable, Equatable {
    public var sessionHostId: String
    /// False when the host was not registered (the call is idempotent).
    public var deregistered: Bool

    public init(sessionHostId: String, deregistered: Bool) {
        self.sessionHostId = sessionHostId
        self.deregistered = deregistered
    }
}
