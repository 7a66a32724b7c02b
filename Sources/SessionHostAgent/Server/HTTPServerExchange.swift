import NIOCore
import NIOHTTP1

/// The two halves of one exchange on a NIO HTTP/1.1 server connection that the agent's servers
/// (the socket API and the GSDK listener) share: reading a request's body within the limit, and
/// writing a whole JSON answer.
enum HTTPServerExchange {
    typealias Parts = NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator

    /// The body of the request whose `head` was just read, or `nil` when it is over `limit`
    /// (declared in `Content-Length` or as it arrives).
    static func readBody(head: HTTPRequestHead, parts: inout Parts, limit: Int = GameSocketAPI.maximumBodyBytes) async throws -> [UInt8]? {
        if let declared = head.headers.first(name: "content-length").flatMap(Int.init), declared > limit {
            return nil
        }
        var body: [UInt8] = []
        while let part = try await parts.next() {
            switch part {
            case .body(let buffer):
                if body.count + buffer.readableBytes > limit { return nil }
                body.append(contentsOf: buffer.readableBytesView)
            case .end, .head:
                return body
            }
        }
        return body
    }

    /// Writes a complete answer with a JSON body; `Connection: close` unless `keepAlive`.
    static func writeJSON(
        status: Int, body: [UInt8], headers extra: [(String, String)], contentType: String = "application/json",
        for head: HTTPRequestHead, keepAlive: Bool, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Cache-Control", value: "no-store")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        for (name, value) in extra { headers.add(name: name, value: value) }
        try await outbound.write(contentsOf: [
            .head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers)),
            .body(.byteBuffer(ByteBuffer(bytes: body))),
            .end(nil),
        ])
    }
}
