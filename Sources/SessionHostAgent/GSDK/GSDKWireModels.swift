import SessionHostModel

// The JSON the PlayFab Game Server SDKs (GSDK) exchange with their agent. Member names and
// casing are the ones the public SDKs send and parse (docs/gsdk-compatibility.md lists the
// sources): requests arrive in PascalCase from the C++, C# and Go SDKs and in camelCase from
// the Java SDK, so they are matched ignoring case; answers are camelCase, which the C++ SDK
// (jsoncpp, case-sensitive) requires and the others accept.

/// `CurrentGameState` of a heartbeat: what the game server says it is doing.
public enum GSDKGameState: String, Sendable, CaseIterable {
    case invalid = "Invalid"
    case initializing = "Initializing"
    case standingBy = "StandingBy"
    case active = "Active"
    case terminating = "Terminating"
    case terminated = "Terminated"
    case quarantined = "Quarantined"

    // The order is the SDKs' enum order: a state sent as a number is its position here.

    /// The state named `text`, ignoring case.
    public init?(named text: String) {
        guard let state = Self.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else {
            return nil
        }
        self = state
    }
}

/// `operation` of a heartbeat answer: what the agent wants the game server to do next.
public enum GSDKOperation: String, Sendable, Codable {
    /// Nothing to do.
    case `continue` = "Continue"
    /// A session was allocated: become Active (the answer carries `sessionConfig`).
    case active = "Active"
    /// Shut down: the SDK calls the game's shutdown callback.
    case terminate = "Terminate"
}

/// The body of `PATCH /v1/sessionHosts/{id}` and `POST /v1/sessionHosts/{id}/heartbeats`.
public struct GSDKHeartbeatRequest: Decodable, Sendable, Equatable {
    public var currentGameState: GSDKGameState
    /// `Healthy` or `Unhealthy`, as the game reported it (informational: see the docs).
    public var currentGameHealth: String?
    public var currentPlayers: [Player]

    public init(currentGameState: GSDKGameState, currentGameHealth: String? = nil, currentPlayers: [Player] = []) {
        self.currentGameState = currentGameState
        self.currentGameHealth = currentGameHealth
        self.currentPlayers = currentPlayers
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        // A serializer that writes enums as numbers sends the enum's position (Invalid = 0, …).
        let state: GSDKGameState?
        if let number = try? container.decodeIgnoringCase(Int.self, "CurrentGameState") {
            state = GSDKGameState.allCases.indices.contains(number) ? GSDKGameState.allCases[number] : nil
        } else {
            state = GSDKGameState(named: try container.requireIgnoringCase(String.self, "CurrentGameState"))
        }
        guard let state else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: [AnyCodingKey("CurrentGameState")],
                    debugDescription:
                        "CurrentGameState must be one of \(GSDKGameState.allCases.map(\.rawValue).joined(separator: ", "))"
                ))
        }
        currentGameState = state
        currentGameHealth = try container.decodeIgnoringCase(String.self, "CurrentGameHealth")
        currentPlayers = try container.decodeIgnoringCase([Player].self, "CurrentPlayers") ?? []
    }
}

/// `sessionConfig` of a heartbeat answer: the session the host was allocated. Members without a
/// value are left out, so that in the usual case every member is a string, which every SDK
/// version parses (older C# SDKs read `sessionConfig` as a string dictionary).
public struct GSDKSessionConfig: Encodable, Sendable, Equatable {
    /// The session id when it is a GUID (the C# SDK parses it as a `Guid`); absent otherwise.
    public var sessionId: String?
    public var sessionCookie: String?
    /// Players the allocation named; allocations through gsmsd name none, so it is left out.
    public var initialPlayers: [String]?
    /// String members the C++ and Go SDKs copy into their config settings: `sessionId`, the
    /// session's own id, when it is not a GUID (a session from `/clusters`).
    public var metadata: [String: String]?

    public init(
        sessionId: String?, sessionCookie: String?, initialPlayers: [String]? = nil, metadata: [String: String]? = nil
    ) {
        self.sessionId = sessionId
        self.sessionCookie = sessionCookie
        self.initialPlayers = initialPlayers
        self.metadata = metadata
    }
}

/// The answer to a heartbeat.
public struct GSDKHeartbeatResponse: Encodable, Sendable, Equatable {
    /// The game state the heartbeat reported, echoed as the PlayFab agents do.
    public var currentGameState: String
    public var operation: GSDKOperation
    public var nextHeartbeatIntervalMs: Int
    public var sessionConfig: GSDKSessionConfig?
    /// The VM's drain deadline, ISO 8601 (UTC) in whole seconds (`2026-12-07T19:00:00Z`), while
    /// it drains; absent otherwise. The SDKs call the game's maintenance callback when it changes.
    public var nextScheduledMaintenanceUtc: String?

    public init(
        currentGameState: String, operation: GSDKOperation, nextHeartbeatIntervalMs: Int,
        sessionConfig: GSDKSessionConfig?, nextScheduledMaintenanceUtc: String? = nil
    ) {
        self.nextScheduledMaintenanceUtc = nextScheduledMaintenanceUtc
        self.currentGameState = currentGameState
        self.operation = operation
        self.nextHeartbeatIntervalMs = nextHeartbeatIntervalMs
        self.sessionConfig = sessionConfig
    }
}

/// The body of `POST /v1/metrics/{id}/gsdkinfo`: which SDK the game server links.
public struct GSDKInfoReport: Decodable, Sendable, Equatable {
    public var flavor: String
    public var version: String

    public init(flavor: String, version: String) {
        self.flavor = flavor
        self.version = version
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        flavor = try container.requireIgnoringCase(String.self, "Flavor")
        version = try container.requireIgnoringCase(String.self, "Version")
    }
}
