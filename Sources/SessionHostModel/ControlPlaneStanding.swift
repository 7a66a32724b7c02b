/// Whether gsmsd has this host in its pool, as the agent last learned it: the `controlPlane`
/// member of `GET /v1/host`, the end of `STATUS=` and a row of `sessionhostctl host`.
public struct ControlPlaneStanding: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// No gsmsd: the agent runs alone and `sessionhostctl allocate` hands over sessions.
        case local = "Local"
        /// Registering with gsmsd; no answer yet.
        case connecting = "Connecting"
        /// gsmsd has the host: it can be allocated while StandingBy.
        case registered = "Registered"
        /// gsmsd answered but refused the host (`code`, `message`); a retry alone does not help.
        case refused = "Refused"
        /// gsmsd could not be reached (`message`); the agent keeps trying.
        case unreachable = "Unreachable"
    }

    public var status: Status
    /// gsmsd's error code when `refused`.
    public var code: String?
    /// What is wrong and what to do, when `refused` or `unreachable`.
    public var message: String?
    /// When the standing last changed (ISO 8601, UTC).
    public var since: String?

    public init(status: Status, code: String? = nil, message: String? = nil, since: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.since = since
    }

    public static let local = ControlPlaneStanding(status: .local)

    /// Whether gsmsd can offer this host to titles, as far as the agent knows.
    public var isInPool: Bool { status == .registered }

    /// Equal but for `since`.
    public func sameStanding(as other: ControlPlaneStanding) -> Bool {
        status == other.status && code == other.code && message == other.message
    }
}
