import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 client over TCP for end-to-end tests: one connection per request, the whole
/// answer with its headers.
struct HTTPTestClient: Sendable {
    let host: String
    let port: Int

    struct Answer: Sendable, CustomStringConvertible {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        /// The first header of that name, ignoring case.
        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        var text: String { String(decoding: body, as: UTF8.self) }

        /// The body as a JSON object.
        var json: [String: Any] {
            ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:]
        }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try JSONDecoder().decode(T.self, from: Data(body))
        }

        var description: String { "\(status) \(text)" }
    }

    typealias Connection = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    func send(
        _ method: HTTPMethod, _ path: String, headers extra: [(String, String)] = [], body: [UInt8]? = nil
    ) async throws -> Answer {
        let connection = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        return try await connection.executeThenClose { inbound, outbound in
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "\(host):\(port)")
            headers.add(name: "Connection", value: "close")
            for (name, value) in extra { headers.add(name: name, value: value) }
            if let body {
                if !headers.contains(name: "Content-Type") { headers.add(name: "Content-Type", value: "application/json") }
                headers.add(name: "Content-Length", value: String(body.count))
            } else if method == .POST || method == .PUT {
                headers.add(name: "Content-Length", value: "0")
            }
            var parts: [HTTPClientRequestPart] = [.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers))]
            if let body { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            parts.append(.end(nil))
            try await outbound.write(contentsOf: parts)
            var answer = Answer(status: 0, headers: [], body: [])
            for try await part in inbound {
                switch part {
                case .head(let head):
                    answer.status = Int(head.status.code)
                    answer.headers = head.headers.map { ($0.name, $0.value) }
                case .body(let buffer):
                    answer.body.append(contentsOf: buffer.readableBytesView)
                case .end:
                    return answer
                }
            }
            throw TestFailure("the server closed the connection before answering \(method) \(path)")
        }
    }

    /// Sends a JSON value as the body.
    func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], json: Any
    ) async throws -> Answer {
        let data = try JSONSerialization.data(withJSONObject: json)
        return try await send(method, path, headers: headers, body: [UInt8](data))
    }
}
