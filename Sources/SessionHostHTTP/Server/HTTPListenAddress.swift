/// Where an `HTTPServer` listens.
public enum HTTPListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// A Unix stream socket the server binds at `path` (replacing a stale file there) and gives
    /// `mode`; the file is removed when the server stops.
    case unixSocket(path: String, mode: UInt32 = 0o660)
    /// A listening Unix stream socket inherited from the service manager (socket activation).
    case inheritedDescriptor(Int32)
    /// A TCP address.
    case tcp(host: String, port: Int)

    /// The address in words, for logs and errors: the path, `descriptor 3 from systemd`, or
    /// `host:port` (IPv6 hosts in brackets).
    public var description: String {
        switch self {
        case .unixSocket(let path, _): path
        case .inheritedDescriptor(let descriptor): "descriptor \(descriptor) from systemd"
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    /// Whether connections carry peer credentials (Unix sockets).
    var isUnix: Bool {
        if case .tcp = self { return false }
        return true
    }
}

/// The socket an `HTTPServer` bound, given to its `onListening` hook.
public struct HTTPListening: Sendable, Equatable {
    /// The address asked for.
    public var address: HTTPListenAddress
    /// The TCP port bound (the one the kernel picked for port 0); `nil` for Unix sockets.
    public var port: Int?

    public init(address: HTTPListenAddress, port: Int?) {
        self.address = address
        self.port = port
    }
}
