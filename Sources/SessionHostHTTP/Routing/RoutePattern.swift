/// A path pattern of a route: literal segments and `{name}` parameters, e.g.
/// `/v1/sessionHosts/{id}/heartbeats`. A parameter matches one whole non-empty segment.
public struct RoutePattern: Sendable, Hashable, CustomStringConvertible {
    enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(String)
    }

    /// The pattern as written.
    public let description: String
    let segments: [Segment]

    public init(_ text: String) {
        description = text
        segments = Self.split(text).map { segment in
            if segment.hasPrefix("{") && segment.hasSuffix("}") && segment.count > 2 {
                return .parameter(String(segment.dropFirst().dropLast()))
            }
            return .literal(String(segment))
        }
    }

    /// The segments of a path: `/v1/host` is `["v1", "host"]`, `/v1/host/` is `["v1", "host", ""]`.
    static func split(_ path: some StringProtocol) -> [Substring] {
        let segments = Substring(path).split(separator: "/", omittingEmptySubsequences: false)
        return segments.first == "" ? Array(segments.dropFirst()) : segments
    }

    /// The decoded parameters when `path` (split by `split`) matches, else `nil`.
    func match(_ path: [Substring], ignoringCase: Bool) -> [String: String]? {
        guard path.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, text) in zip(segments, path) {
            switch segment {
            case .literal(let literal):
                let same = ignoringCase ? literal.lowercased() == text.lowercased() : literal == text
                if !same { return nil }
            case .parameter(let name):
                if text.isEmpty { return nil }
                parameters[name] = PercentDecoding.decode(text, plusIsSpace: false)
            }
        }
        return parameters
    }
}
