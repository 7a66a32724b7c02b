/// Turns a `DecodingError` into one line a person can act on ("member 'players[0].playerId': …").
public enum DecodingErrorDescription {
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return text.isEmpty ? "the body" : "member '\(text)'"
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) has the wrong type (expected \(jsonKind(of: type)))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is null (expected \(jsonKind(of: type)))"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return "the body is not valid JSON"
            }
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// The JSON a Swift type is read from, in the words of the API docs ("an object", "a
    /// string"), never a Swift type name.
    static func jsonKind(of type: Any.Type) -> String {
        let name = String(describing: type)
        if name.hasPrefix("Dictionary<") || name.hasPrefix("KeyedDecodingContainer") { return "a JSON object" }
        if name.hasPrefix("Array<") || name.hasPrefix("UnkeyedDecodingContainer") { return "a JSON array" }
        switch name {
        case "String", "Substring": return "a string"
        case "Bool": return "true or false"
        case "Int", "Int8", "Int16", "Int32", "Int64", "UInt", "UInt8", "UInt16", "UInt32", "UInt64":
            return "a whole number"
        case "Double", "Float", "Decimal": return "a number"
        default: return "a JSON object"
        }
    }
}
