import NIOCore
import NIOHTTP1

/// The two halves of one exchange on an `HTTPServer` connection: reading a request's body within
/// the limit, and writing an answer.
enum HTTPServerExchange {
    typealias Parts = NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator
    typealias Outbound = NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>

    /// Whether `head` declares a body over `limit` in its `Content-Length`.
    static func declaresTooLarge(_ head: HTTPRequestHead, limit: Int) -> Bool {
        head.headers.first(name: "content-length").flatMap(Int.init).map { $0 > limit } ?? false
    }

    /// Whether the client waits for `100 Continue` before it sends the body.
    static func expectsContinue(_ head: HTTPRequestHead) -> Bool {
        head.headers[canonicalForm: "expect"].contains { $0.lowercased() == "100-continue" }
    }

    /// The body of the request whose `head` was just read, or `nil` when it is over `limit`
    /// (declared in `Content-Length` or as it arrives).
    static func readBody(head: HTTPRequestHead, parts: inout Parts, limit: Int) async throws -> [UInt8]? {
        if declaresTooLarge(head, limit: limit) { return nil }
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

    /// Writes `answer`; `Connection: close` unless `keepAlive`; no body for `HEAD`.
    static func write(
        _ answer: HTTPServerResponse, for head: HTTPRequestHead, keepAlive: Bool, jsonContentType: String,
        to outbound: Outbound
    ) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Cache-Control", value: "no-store")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let status: Int
        let body: [UInt8]
        switch answer {
        case .json(let code, let bytes, let extra), .content(let code, _, let bytes, let extra):
            let contentType: String
            if case .content(_, let type, _, _) = answer { contentType = type } else { contentType = jsonContentType }
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(bytes.count))
            for (name, value) in extra { headers.add(name: name, value: value) }
            (status, body) = (code, bytes)
        case .stream(let contentType, let lines):
            headers.add(name: "Content-Type", value: contentType)
            try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers)))
            for await line in lines {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: line))))
            }
            try await outbound.write(.end(nil))
            return
        }
        var parts: [HTTPServerResponsePart] = [
            .head(
                HTTPResponseHead(
                    version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers))
        ]
        if head.method != .HEAD { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
        parts.append(.end(nil))
        try await outbound.write(contentsOf: parts)
    }
}
