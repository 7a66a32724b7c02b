import NIOHTTP1

/// A complete request read by an `HTTPServer`: method, target split into path and query, headers,
/// body, and the peer's credentials on a Unix socket.
public struct HTTPServerRequest: Sendable {
    public var method: String
    /// The path without the query, e.g. `/v1/session` (not decoded).
    public var path: String
    /// The query's parameters, decoded; the last value of a name wins.
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Who connected, on a Unix socket; `nil` on TCP.
    public var peer: PeerCredentials?
    /// The `{name}` segments of the route that matched, decoded (`RouteTable` fills them in).
    public var pathParameters: [String: String] = [:]

    public init(
        method: String, target: String, headers: HTTPHeaders = [:], body: [UInt8] = [], peer: PeerCredentials? = nil
    ) {
        self.method = method
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.path = parts.first.map(String.init) ?? "/"
        self.query = parts.count > 1 ? Self.parseQuery(parts[1]) : [:]
        self.headers = headers
        self.body = body
        self.peer = peer
    }

    /// `a=1&b=2` into a dictionary; percent-escapes are decoded, the last value of a name wins.
    static func parseQuery(_ text: some StringProtocol) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let items = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentDecoding.decode(items[0], plusIsSpace: true)
            result[name] = items.count > 1 ? PercentDecoding.decode(items[1], plusIsSpace: true) : ""
        }
        return result
    }
}
