/// The operator API of gsmsd (`/operator/v1/…`, docs/rest-api.md "Operator API"): the fleet as
/// an operator sees it. Authenticated with the operator secret, never with a title token.

/// One session host in `GET /operator/v1/hosts`.
public struct OperatorHost: Codable, Sendable, Equatable {
    public var sessionHostId: String
    public var titleId: String
    public var region: String
    /// The VM the host runs on (its own id when it registered none).
    public var vmId: String
    public var hostName: String
    /// gsmsd's view of the host's state.
    public var state: HostState
    /// The session the host holds (Allocating or Active), if any.
    public var sessionId: String?
    /// ISO 8601 (UTC): when its agent was last heard from.
    public var lastHeartbeat: String
    /// The drain in force on the host, if any.
    public var drain: DrainNotice?
    /// The host's agent reported every slot of the VM idle while draining: the VM can go.
    public var drained: Bool
    public var portMappings: [PortMapping]

    public init(
        sessionHostId: String, titleId: String, region: String, vmId: String, hostName: String, state: HostState,
        sessionId: String? = nil, lastHeartbeat: String, drain: DrainNotice? = nil, drained: Bool = false,
        portMappings: [PortMapping] = []
    ) {
        self.sessionHostId = sessionHostId
        self.titleId = titleId
        self.region = region
        self.vmId = vmId
        self.hostName = hostName
        self.state = state
        self.sessionId = sessionId
        self.lastHeartbeat = lastHeartbeat
        self.drain = drain
        self.drained = drained
        self.portMappings = portMappings
    }
}

/// A page of `GET /operator/v1/hosts`: `next` is the `after` of the next page, absent on the last.
public struct OperatorHostPage: Codable, Sendable, Equatable {
    public var hosts: [OperatorHost]
    public var next: String?

    public init(hosts: [OperatorHost], next: String? = nil) {
        self.hosts = hosts
        self.next = next
    }
}

/// One session in `GET /operator/v1/sessions` and `GET /operator/v1/titles/{titleId}/sessions/{sessionId}`.
public struct OperatorSession: Codable, Sendable, Equatable {
    public var titleId: String
    public var sessionId: String
    /// `Allocating` (waiting for its host's acknowledgement) or `Active`.
    public var state: String
    public var sessionHostId: String
    public var vmId: String
    public var region: String
    public var hostName: String
    /// ISO 8601 (UTC).
    public var allocatedAt: String
    /// The players the game last reported in its heartbeat (through its agent); absent when the
    /// game never reported any.
    public var players: [Player]?

    public init(
        titleId: String, sessionId: String, state: String, sessionHostId: String, vmId: String, region: String,
        hostName: String, allocatedAt: String, players: [Player]? = nil
    ) {
        self.titleId = titleId
        self.sessionId = sessionId
        self.state = state
        self.sessionHostId = sessionHostId
        self.vmId = vmId
        self.region = region
        self.hostName = hostName
        self.allocatedAt = allocatedAt
        self.players = players
    }
}

/// A page of `GET /operator/v1/sessions`.
public struct OperatorSessionPage: Codable, Sendable, Equatable {
    public var sessions: [OperatorSession]
    public var next: String?

    public init(sessions: [OperatorSession], next: String? = nil) {
        self.sessions = sessions
        self.next = next
    }
}

/// `POST /operator/v1/drains`: drain every host of a VM, of a title's region, or of a title.
/// `titleId` alone drains the title; with `region`, that region; `vmId` drains one VM (with or
/// without the others, which then must match too). At least one member is required.
public struct DrainRequest: Codable, Sendable, Equatable {
    public var titleId: String?
    public var region: String?
    public var vmId: String?
    /// Seconds from now until the deadline, 1 to 604800 (a week). Default 3600.
    public var deadlineSeconds: Int?
    public var reason: String?

    public static let defaultDeadlineSeconds = 3600
    public static let maximumDeadlineSeconds = 604_800

    public init(
        titleId: String? = nil, region: String? = nil, vmId: String? = nil, deadlineSeconds: Int? = nil,
        reason: String? = nil
    ) {
        self.titleId = titleId
        self.region = region
        self.vmId = vmId
        self.deadlineSeconds = deadlineSeconds
        self.reason = reason
    }
}

/// The answer to `POST /operator/v1/drains`.
public struct DrainAnswer: Codable, Sendable, Equatable {
    /// The drain as the matching hosts' agents are told it.
    public var drain: DrainNotice
    /// Hosts that match now (hosts that register later under the same scope are drained too).
    public var hosts: Int

    public init(drain: DrainNotice, hosts: Int) {
        self.drain = drain
        self.hosts = hosts
    }
}

/// The answer to `DELETE /titles/{titleId}/sessionhosts/{sessionId}` and
/// `DELETE /operator/v1/titles/{titleId}/sessions/{sessionId}`: the session is gone from the
/// inventory and its host is Terminating until its game is ready again; the game is told
/// through its agent at the agent's next exchange with gsmsd.
public struct SessionShutdown: Codable, Sendable, Equatable {
    public var titleId: String
    public var sessionId: String
    public var sessionHostId: String

    public init(titleId: String, sessionId: String, sessionHostId: String) {
        self.titleId = titleId
        self.sessionId = sessionId
        self.sessionHostId = sessionHostId
    }
}

/// The answer to our extension `GET /titles/{titleId}/sessionhosts/{sessionId}/players`: the
/// players the session's game server last reported (through its agent's heartbeats).
public struct SessionPlayers: Codable, Sendable, Equatable {
    public var sessionId: String
    public var sessionHostId: String
    /// Empty when the game reported none yet.
    public var players: [Player]

    public init(sessionId: String, sessionHostId: String, players: [Player]) {
        self.sessionId = sessionId
        self.sessionHostId = sessionHostId
        self.players = players
    }
}
