public import FoundationEssentials
public import SessionHostModel

/// Whether an allocation was asked for through `sessionhosts` (GUID session id) or `clusters`
/// (a multiplayer session path, possibly queued first).
public enum AllocationKind: String, Sendable, Equatable, Codable {
    case sessionHost
    case cluster
}

/// A session placed on a host: Allocating until the agent acknowledges, then Active.
public struct Allocation: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        case allocating = "Allocating"
        case active = "Active"
    }

    public var titleId: String
    public var sessionId: String
    public var kind: AllocationKind
    public var state: State
    public var sessionCookie: String?
    public var allocatedAt: Date
    /// Allocating: the agent must acknowledge before this time.
    public var acknowledgeBy: Date
    // The host, as it was when allocated.
    public var sessionHostId: String
    public var hostName: String
    public var region: String
    public var portMappings: [PortMapping]
    public var secureContext: String

    public init(
        titleId: String, sessionId: String, kind: AllocationKind, state: State, sessionCookie: String?,
        allocatedAt: Date, acknowledgeBy: Date, sessionHostId: String, hostName: String, region: String,
        portMappings: [PortMapping], secureContext: String
    ) {
        self.titleId = titleId
        self.sessionId = sessionId
        self.kind = kind
        self.state = state
        self.sessionCookie = sessionCookie
        self.allocatedAt = allocatedAt
        self.acknowledgeBy = acknowledgeBy
        self.sessionHostId = sessionHostId
        self.hostName = hostName
        self.region = region
        self.portMappings = portMappings
        self.secureContext = secureContext
    }

    /// The public REST body for this allocation.
    public var publicBody: SessionHostAllocation {
        SessionHostAllocation(
            hostName: hostName, portMappings: portMappings, region: region, secureContext: secureContext,
            sessionId: sessionId, sessionHostId: sessionHostId
        )
    }
}
