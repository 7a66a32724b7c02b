import SessionHostModel

/// Where the agent serves its metrics (`--metrics-listen HOST:PORT`, `[IPv6]:PORT`); off
/// unless set. Use a loopback address (`127.0.0.1:9464`) unless Prometheus scrapes from
/// another machine: the listener has no authentication.
public struct MetricsListenAddress: Sendable, Equatable {
    public var host: String
    /// 0 picks a free port (tests); the agent logs the one it got.
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws(InvalidInput) {
        let invalid = InvalidInput(
            code: .invalidMetricsListen,
            message: "--metrics-listen must be HOST:PORT, e.g. 127.0.0.1:9464, got '\(text.prefix(80))'")
        guard let colon = text.lastIndex(of: ":") else { throw invalid }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw invalid
        }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            throw invalid
        }
        self.init(host: host, port: port)
    }
}
