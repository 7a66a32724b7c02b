import NIOCore

/// Where an ``HTTP1Client`` connects: a Unix stream socket or a TCP host and port.
public enum HTTPClientAddress: Sendable, Hashable, CustomStringConvertible {
    case unix(path: String)
    /// A host name or an IP address (IPv6 without brackets), and a port.
    case tcp(host: String, port: Int)

    public var description: String {
        switch self {
        case .unix(let path): path
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    /// The `Host` header sent when the request has none: `localhost` on a Unix socket, else
    /// `host:port`.
    var defaultHostHeader: String {
        switch self {
        case .unix: "localhost"
        case .tcp: description
        }
    }

    /// The name TLS checks the server's certificate against (SNI): the host, unless it is an IP
    /// address; `nil` on a Unix socket.
    var serverHostname: String? {
        guard case .tcp(let host, _) = self else { return nil }
        return (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }
}
