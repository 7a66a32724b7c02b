/// `POST /agent/v1/sync`: one agent's report for all of its hosts (the slots of one VM) in one
/// request: each host either registers (`registration`) or heartbeats (`heartbeat`). gsmsd
/// answers every host in the order asked; one host's refusal does not affect the others.
///
/// Authenticated like the per-host calls: the fleet secret, and the agent's key
/// (`SessionHost-Key`), which must be the key bound to every host id in the request (an agent
/// binds its one key to all of its slots).
public struct HostSyncRequest: Codable, Sendable, Equatable {
    public var hosts: [HostSyncReport]

    /// The most hosts one request may carry (`sessionhostd --slots` is at most this).
    public static let maximumHosts = 64

    public init(hosts: [HostSyncReport]) { self.hosts = hosts }
}

/// One host's part of `HostSyncRequest`: exactly one of `registration` and `heartbeat`.
public struct HostSyncReport: Codable, Sendable, Equatable {
    public var sessionHostId: String
    /// Registers the host or updates its description (as `PUT /agent/v1/hosts/{id}`).
    public var registration: HostRegistration?
    /// A heartbeat (as `POST /agent/v1/hosts/{id}/heartbeat`).
    public var heartbeat: HostHeartbeat?

    public init(sessionHostId: String, registration: HostRegistration? = nil, heartbeat: HostHeartbeat? = nil) {
        self.sessionHostId = sessionHostId
        self.registration = registration
        self.heartbeat = heartbeat
    }
}

/// The answer to `POST /agent/v1/sync`: one result per host, in the order of the request.
public struct HostSyncAnswer: Codable, Sendable, Equatable {
    public var hosts: [HostSyncResult]

    public init(hosts: [HostSyncResult]) { self.hosts = hosts }
}

/// One host's result: its status, or the error the per-host call would have answered.
public struct HostSyncResult: Codable, Sendable, Equatable {
    public var sessionHostId: String
    public var status: HostStatus?
    public var error: HostSyncError?

    public init(sessionHostId: String, status: HostStatus? = nil, error: HostSyncError? = nil) {
        self.sessionHostId = sessionHostId
        self.status = status
        self.error = error
    }
}

/// Why one host of a sync was refused: the HTTP status, code and message that the per-host
/// call would have answered (e.g. 404 `UnknownHost`: register it again).
public struct HostSyncError: Codable, Sendable, Equatable, Error {
    public var status: Int
    public var code: String
    public var message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }
}

/// `POST /agent/v1/handoffs`: one held poll for the next hand-off of any of an agent's hosts
/// (its slots), instead of one held poll per host. Answered as soon as at least one of the
/// hosts has a session waiting for its acknowledgement (all that are waiting), or empty when
/// `wait` seconds passed.
public struct HandoffsPollRequest: Codable, Sendable, Equatable {
    public var sessionHostIds: [String]
    /// Seconds to hold the poll, 0 to 300; 0 looks and answers at once. Default 30.
    public var wait: Double?
    /// Sessions whose hand-off the agent already received and is acknowledging: not answered
    /// again (so that the poll stays held while a slot acknowledges, instead of answering the
    /// same hand-off at once).
    public var receivedSessionIds: [String]?

    public init(sessionHostIds: [String], wait: Double? = nil, receivedSessionIds: [String]? = nil) {
        self.sessionHostIds = sessionHostIds
        self.wait = wait
        self.receivedSessionIds = receivedSessionIds
    }
}

/// The answer to `POST /agent/v1/handoffs`: every hand-off waiting for one of the hosts asked
/// about, none when the wait ended without one.
public struct HandoffsPoll: Codable, Sendable, Equatable {
    public var handoffs: [Handoff]

    public init(handoffs: [Handoff]) { self.handoffs = handoffs }
}
