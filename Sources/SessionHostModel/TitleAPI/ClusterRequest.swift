/// The body of `POST /titles/{titleId}/clusters` (SPEC §2).
public struct ClusterRequest: Codable, Sendable, Equatable {
    /// The multiplayer session's path, e.g.
    /// `/serviceconfigs/{scid}/sessiontemplates/{name}/session/{id}`.
    public var sessionId: String
    /// Answer `Aborted` instead of queueing when no host is free now.
    public var abortIfQueued: Bool

    /// The longest session path accepted, in characters (Unicode scalars, as JSON Schema's
    /// `maxLength` counts them).
    public static let maximumSessionIDLength = 1024

    public init(sessionId: String, abortIfQueued: Bool = false) {
        self.sessionId = sessionId
        self.abortIfQueued = abortIfQueued
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        self.sessionId = try container.requireIgnoringCase(String.self, "sessionId")
        self.abortIfQueued = try container.decodeIgnoringCase(LenientBool.self, "abortIfQueued")?.value ?? false
    }

    /// Checks the session path: not empty, at most 1024 characters, no control characters.
    public func validated() throws(InvalidInput) -> ClusterRequest {
        guard !sessionId.isEmpty, sessionId.unicodeScalars.count <= Self.maximumSessionIDLength,
            !sessionId.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw InvalidInput(
                code: .invalidSessionId,
                message:
                    "sessionId must be the multiplayer session's path (1 to \(Self.maximumSessionIDLength) characters, no control characters)"
            )
        }
        return self
    }
}

/// A boolean sent as JSON `true`/`false` or as the strings `"true"`/`"false"` (any case), as the
/// reference sample sends `"abortIfQueued" : "true"`.
public struct LenientBool: Codable, Sendable, Equatable {
    public var value: Bool

    public init(_ value: Bool) { self.value = value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let bool = try? container.decode(Bool.self) {
            value = bool
            return
        }
        if let text = try? container.decode(String.self) {
            switch text.lowercased() {
            case "true":
                value = true
                return
            case "false":
                value = false
                return
            default: break
            }
        }
        throw DecodingError.typeMismatch(
            Bool.self,
            .init(codingPath: decoder.codingPath, debugDescription: "expected true, false, \"true\" or \"false\"")
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
