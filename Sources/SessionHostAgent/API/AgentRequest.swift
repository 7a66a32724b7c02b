/// A request to the agent socket API, independent of the HTTP server that read it.
public struct AgentRequest: Sendable {
    public var method: String
    /// The path without the query, e.g. `/v1/session`.
    public var path: String
    public var query: [String: String]
    public var body: [UInt8]
    public var peer: PeerCredentials

    public init(method: String, target: String, body: [UInt8] = [], peer: PeerCredentials) {
        self.method = method
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.path = parts.first.map(String.init) ?? "/"
        self.query = parts.count > 1 ? Self.parseQuery(String(parts[1])) : [:]
        self.body = body
        self.peer = peer
    }

    /// `a=1&b=2` into a dictionary; percent-escapes are decoded, the last value of a name wins.
    static func parseQuery(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let items = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecoded(String(items[0]))
            result[name] = items.count > 1 ? percentDecoded(String(items[1])) : ""
        }
        return result
    }

    private static func percentDecoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// What the agent answers: a JSON document, or a stream of NDJSON lines.
public enum AgentResponse: Sendable {
    case json(status: Int, body: [UInt8], headers: [(String, String)] = [])
    case stream(contentType: String, lines: AsyncStream<[UInt8]>)

    public var status: Int {
        switch self {
        case .json(let status, _, _): status
        case .stream: 200
        }
    }
}
