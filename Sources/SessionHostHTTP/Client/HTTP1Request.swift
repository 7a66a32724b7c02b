import NIOCore
import NIOHTTP1

/// One HTTP/1.1 request of an ``HTTP1Client``.
///
/// The client adds `Host` (when missing), `Content-Length` (with a body, or for `POST` and `PUT`)
/// and, when it keeps no connections alive, `Connection: close`; every other header is the
/// caller's.
public struct HTTP1Request: Sendable {
    public var method: HTTPMethod
    /// The request target: path and query.
    public var path: String
    public var headers: HTTPHeaders
    public var body: ByteBuffer?
    /// Whether the request may be sent again when a reused connection closed before any answer
    /// came (it may then have been processed). Idempotent methods by default; a request is always
    /// sent again when none of it was written.
    public var isIdempotent: Bool

    public init(
        method: HTTPMethod, path: String, headers: HTTPHeaders = HTTPHeaders(), body: ByteBuffer? = nil,
        isIdempotent: Bool? = nil
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.isIdempotent = isIdempotent ?? [.GET, .HEAD, .PUT, .DELETE, .OPTIONS, .TRACE].contains(method)
    }

    /// The head as sent on the wire.
    func head(address: HTTPClientAddress, keepAlive: Bool) -> HTTPRequestHead {
        var headers = self.headers
        if !headers.contains(name: "Host") {
            headers.replaceOrAdd(name: "Host", value: address.defaultHostHeader)
        }
        if !headers.contains(name: "Content-Length"), body != nil || method == .POST || method == .PUT {
            headers.add(name: "Content-Length", value: String(body?.readableBytes ?? 0))
        }
        if !keepAlive, !headers.contains(name: "Connection") {
            headers.add(name: "Connection", value: "close")
        }
        return HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
    }
}

/// A whole HTTP answer.
public struct HTTP1Response: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    /// Whether the connection may carry another request.
    public var keepAlive: Bool

    public init(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, keepAlive: Bool) {
        self.status = status
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }
}
