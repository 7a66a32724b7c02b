import NIOCore

/// How an ``HTTP1Client`` connects and what it accepts.
public struct HTTPClientConfiguration: Sendable {
    /// Where the server is.
    public var address: HTTPClientAddress
    /// TLS for every connection, or `nil` for plain HTTP.
    public var tls: (any HTTPClientTLS)?
    /// The largest answer body accepted (for a streamed answer: the longest line); a larger one
    /// fails with ``HTTP1ClientError/answerTooLarge(limit:)``.
    public var maximumAnswerBytes: Int
    /// Idle keep-alive connections kept for reuse; `0` sends `Connection: close` and uses a new
    /// connection for every request.
    public var maximumIdleConnections: Int
    /// The longest one connection attempt may take; attempts are repeated until the request's
    /// deadline (a SYN lost to a partition is otherwise retried by the kernel only after 1, 3, 7…
    /// seconds). Without a deadline, one attempt is made.
    public var connectAttemptTimeout: TimeAmount
    /// Socket options set on every connection (e.g. TCP keepalive).
    public var socketOptions: [HTTPClientSocketOption]

    public init(
        address: HTTPClientAddress, tls: (any HTTPClientTLS)? = nil,
        maximumAnswerBytes: Int = HTTPLimits.defaultBodyLimit,
        maximumIdleConnections: Int = 4, connectAttemptTimeout: TimeAmount = .seconds(10),
        socketOptions: [HTTPClientSocketOption] = []
    ) {
        self.address = address
        self.tls = tls
        self.maximumAnswerBytes = maximumAnswerBytes
        self.maximumIdleConnections = maximumIdleConnections
        self.connectAttemptTimeout = connectAttemptTimeout
        self.socketOptions = socketOptions
    }
}

/// One socket option (`setsockopt`) for the connections of an ``HTTP1Client``.
public struct HTTPClientSocketOption: Sendable {
    public var level: SocketOptionLevel
    public var name: SocketOptionName
    public var value: SocketOptionValue

    public init(level: SocketOptionLevel, name: SocketOptionName, value: SocketOptionValue) {
        self.level = level
        self.name = name
        self.value = value
    }
}
