/// The body of `POST /titles/{titleId}/sessionhosts` (SPEC §2). Member names match ignoring
/// case; unknown members are ignored.
public struct SessionHostAllocationRequest: Codable, Sendable, Equatable {
    /// Caller-chosen GUID, stored in lower case.
    public var sessionId: String
    public var sandboxId: String?
    public var cloudGameId: String?
    /// The game mode; the reference's member table spells it `gameModelId`, which is accepted too.
    public var gameModeId: String?
    /// Preferred locations, tried strictly in order.
    public var locations: [String]?
    /// At most 4096 bytes of UTF-8, handed to the game server as is.
    public var sessionCookie: String?

    /// The most locations one request may name.
    public static let maximumLocations = 64
    /// The longest sandbox, cloud game, game mode or location value.
    public static let maximumValueLength = 256

    public init(
        sessionId: String, sandboxId: String? = nil, cloudGameId: String? = nil, gameModeId: String? = nil,
        locations: [String]? = nil, sessionCookie: String? = nil
    ) {
        self.sessionId = sessionId
        self.sandboxId = sandboxId
        self.cloudGameId = cloudGameId
        self.gameModeId = gameModeId
        self.locations = locations
        self.sessionCookie = sessionCookie
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        self.sessionId = try container.requireIgnoringCase(String.self, "sessionId")
        self.sandboxId = try container.decodeIgnoringCase(String.self, "sandboxId")
        self.cloudGameId = try container.decodeIgnoringCase(String.self, "cloudGameId")
        self.gameModeId =
            try container.decodeIgnoringCase(String.self, "gameModeId")
            ?? container.decodeIgnoringCase(String.self, "gameModelId")
        self.locations = try container.decodeIgnoringCase([String].self, "locations")
        self.sessionCookie = try container.decodeIgnoringCase(String.self, "sessionCookie")
    }

    /// Checks the rules that decoding cannot: GUID session id, cookie size, value lengths.
    /// Returns the request with its session id in lower case.
    public func validated() throws(InvalidInput) -> SessionHostAllocationRequest {
        var request = self
        request.sessionId = try SessionRules.validatedSessionID(sessionId)
        try SessionRules.validateCookie(sessionCookie)
        for (name, value) in [("sandboxId", sandboxId), ("cloudGameId", cloudGameId), ("gameModeId", gameModeId)] {
            if let value, value.utf8.count > Self.maximumValueLength {
                throw InvalidInput(
                    code: .valueTooLong, message: "\(name) is longer than \(Self.maximumValueLength) bytes")
            }
        }
        if let locations {
            if locations.count > Self.maximumLocations {
                throw InvalidInput(
                    code: .tooManyLocations,
                    message: "locations names \(locations.count) entries; the limit is \(Self.maximumLocations)")
            }
            for location in locations
            where location.utf8.count > Self.maximumValueLength || TitleRules.locationKey(location).isEmpty {
                throw InvalidInput(
                    code: .invalidLocation,
                    message:
                        "each location must be a region name of 1 to \(Self.maximumValueLength) bytes, got '\(location.prefix(80))'"
                )
            }
        }
        return request
    }
}
