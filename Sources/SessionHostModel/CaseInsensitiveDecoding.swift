/// A coding key for any member name, used to match request members case-insensitively
/// (the reference pages write both `SandboxId` and `sandboxId`).
public struct AnyCodingKey: CodingKey, Sendable, Hashable {
    public var stringValue: String
    public var intValue: Int?

    public init(_ string: String) {
        self.stringValue = string
        self.intValue = nil
    }

    public init?(stringValue: String) { self.init(stringValue) }

    public init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension KeyedDecodingContainer where Key == AnyCodingKey {
    /// The member whose name equals `name` ignoring case; `nil` when absent or JSON `null`.
    /// Wrong types throw a `DecodingError` naming the member.
    public func decodeIgnoringCase<T: Decodable>(_ type: T.Type, _ name: String) throws -> T? {
        let wanted = name.lowercased()
        guard let key = allKeys.first(where: { $0.stringValue.lowercased() == wanted }) else {
            return nil
        }
        if try decodeNil(forKey: key) { return nil }
        return try decode(T.self, forKey: key)
    }

    /// Like `decodeIgnoringCase`, for a member that must be present and not `null`.
    public func requireIgnoringCase<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        guard let value = try decodeIgnoringCase(T.self, name) else {
            throw DecodingError.keyNotFound(
                AnyCodingKey(name),
                .init(codingPath: codingPath, debugDescription: "\(name) is required")
            )
        }
        return value
    }
}
