/// `GET /v1/host`: who this session host is (SPEC §3).
public struct HostInfo: Codable, Sendable, Equatable {
    public var sessionHostId: String
    public var titleId: String
    public var hostName: String
    public var region: String
    public var portMappings: [PortMapping]
    public var secureContext: String
    public var state: HostState
    public var sandboxId: String?
    public var cloudGameId: String?
    public var gameModeId: String?
    /// Whether gsmsd has the host (`nil` from agents before this member existed).
    public var controlPlane: ControlPlaneStanding?
    /// The VM is draining: no new session comes; end the running one before `deadline`.
    public var drain: DrainNotice?

    public init(
        sessionHostId: String, titleId: String, hostName: String, region: String,
        portMappings: [PortMapping], secureContext: String, state: HostState,
        sandboxId: String? = nil, cloudGameId: String? = nil, gameModeId: String? = nil,
        controlPlane: ControlPlaneStanding? = nil
    ) {
        self.sessionHostId = sessionHostId
        self.titleId = titleId
        self.hostName = hostName
        self.region = region
        self.portMappings = portMappings
        self.secureContext = secureContext
        self.state = state
        self.sandboxId = sandboxId
        self.cloudGameId = cloudGameId
        self.gameModeId = gameModeId
        self.controlPlane = controlPlane
    }
}

/// A player the game server reports in its heartbeat.
public struct Player: Codable, Sendable, Equatable {
    public var playerId: String

    public init(playerId: String) { self.playerId = playerId }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        guard let playerId = try container.decodeIgnoringCase(String.self, "playerId") else {
            throw DecodingError.keyNotFound(
                AnyCodingKey("playerId"),
                .init(codingPath: decoder.codingPath, debugDescription: "each player needs a playerId")
            )
        }
        self.playerId = playerId
    }
}

/// `GET /v1/session`, and the answer to `POST /v1/heartbeat`: the host's state and, once
/// allocated, its session.
public struct SessionInfo: Codable, Sendable, Equatable {
    public var state: HostState
    public var sessionId: String?
    public var sessionCookie: String?
    /// ISO 8601 time (UTC) at which the agent accepted the hand-off.
    public var allocatedAt: String?
    /// The players last reported by the game's heartbeat.
    public var players: [Player]?

    public init(
        state: HostState, sessionId: String? = nil, sessionCookie: String? = nil,
        allocatedAt: String? = nil, players: [Player]? = nil
    ) {
        self.state = state
        self.sessionId = sessionId
        self.sessionCookie = sessionCookie
        self.allocatedAt = allocatedAt
        self.players = players
    }
}

/// The health a game server reports in its heartbeat.
public enum GameHealth: String, Codable, Sendable {
    case healthy = "Healthy"
    case unhealthy = "Unhealthy"
}

/// `POST /v1/heartbeat` body, all members optional: `{"health": "Healthy", "players": [{"playerId": "…"}]}`.
public struct HeartbeatRequest: Codable, Sendable, Equatable {
    public var health: GameHealth?
    public var players: [Player]?

    public init(health: GameHealth? = nil, players: [Player]? = nil) {
        self.health = health
        self.players = players
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        if let text = try container.decodeIgnoringCase(String.self, "health") {
            guard let health = GameHealth.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() })
            else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: [AnyCodingKey("health")],
                        debugDescription: "health must be \"Healthy\" or \"Unhealthy\"")
                )
            }
            self.health = health
        }
        self.players = try container.decodeIgnoringCase([Player].self, "players")
    }
}

extension GameHealth: CaseIterable {}

/// One line of `GET /v1/events`: a state change.
public struct HostEvent: Codable, Sendable, Equatable {
    /// Increases by one with every change the agent makes (not persisted across restarts).
    public var sequence: UInt64
    public var state: HostState
    public var sessionId: String?
    /// ISO 8601 time (UTC) of the change.
    public var at: String
    /// Why the state changed, in words (e.g. "game called ready").
    public var reason: String?
    /// The drain in force, from the event that announced it on (see `HostInfo.drain`).
    public var drain: DrainNotice?

    public init(sequence: UInt64, state: HostState, sessionId: String?, at: String, reason: String?) {
        self.sequence = sequence
        self.state = state
        self.sessionId = sessionId
        self.at = at
        self.reason = reason
    }
}

/// A hand-off as the service (or `sessionhostctl allocate` in local mode) sends it to the agent.
public struct AllocationRequest: Codable, Sendable, Equatable {
    public var sessionId: String
    public var sessionCookie: String?

    public init(sessionId: String, sessionCookie: String? = nil) {
        self.sessionId = sessionId
        self.sessionCookie = sessionCookie
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        self.sessionId = try container.requireIgnoringCase(String.self, "sessionId")
        self.sessionCookie = try container.decodeIgnoringCase(String.self, "sessionCookie")
    }
}

/// The body of every error answer: a stable code and a message for people.
public struct ErrorBody: Codable, Sendable, Equatable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// `POST /v1/drain` body, all members optional: `{"deadlineSeconds": 3600, "reason": "kernel upgrade"}`.
/// The VM takes no new session; running sessions should end within `deadlineSeconds`.
public struct DrainCommandRequest: Codable, Sendable, Equatable {
    /// Seconds from now until the deadline, `deadlineSecondsRange`; `defaultDeadlineSeconds` when absent.
    public var deadlineSeconds: Int?
    /// Why, in words, at most `DrainNotice.maximumReasonBytes`.
    public var reason: String?

    /// The deadline when none is given: an hour.
    public static let defaultDeadlineSeconds = 3600
    /// From a second to a week.
    public static let deadlineSecondsRange = 1...604_800

    public init(deadlineSeconds: Int? = nil, reason: String? = nil) {
        self.deadlineSeconds = deadlineSeconds
        self.reason = reason
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        self.deadlineSeconds = try container.decodeIgnoringCase(Int.self, "deadlineSeconds")
        self.reason = try container.decodeIgnoringCase(String.self, "reason")
    }

    /// Checks the deadline's range and the reason's length.
    public func validate() throws(InvalidInput) {
        if let deadlineSeconds, !Self.deadlineSecondsRange.contains(deadlineSeconds) {
            throw InvalidInput(
                code: .invalidDrain,
                message:
                    "deadlineSeconds must be \(Self.deadlineSecondsRange.lowerBound) to \(Self.deadlineSecondsRange.upperBound), got \(deadlineSeconds)"
            )
        }
        if let reason, reason.utf8.count > DrainNotice.maximumReasonBytes {
            throw InvalidInput(
                code: .invalidDrain, message: "reason is longer than \(DrainNotice.maximumReasonBytes) bytes")
        }
    }
}
