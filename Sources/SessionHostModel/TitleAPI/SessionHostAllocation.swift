/// The 200 body of `POST /titles/{titleId}/sessionhosts` and of
/// `GET /titles/{titleId}/sessionhosts/{sessionId}` (SPEC §2): where the game server is.
public struct SessionHostAllocation: Codable, Sendable, Equatable {
    public var hostName: String
    public var portMappings: [PortMapping]
    public var region: String
    /// The host's opaque base64 secure device address.
    public var secureContext: String
    public var sessionId: String
    public var sessionHostId: String

    public init(
        hostName: String, portMappings: [PortMapping], region: String, secureContext: String,
        sessionId: String, sessionHostId: String
    ) {
        self.hostName = hostName
        self.portMappings = portMappings
        self.region = region
        self.secureContext = secureContext
        self.sessionId = sessionId
        self.sessionHostId = sessionHostId
    }
}
