import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SessionHostHTTP

/// A small HTTP/1.1 client over TCP for end-to-end tests (`SessionHostHTTP`'s client): one
/// connection per request, the whole answer with its headers.
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

    /// The largest answer read (metrics pages and lists of hosts are bigger than the default).
    static let maximumAnswerBytes = 16 << 20

    private var http: HTTP1Client {
        HTTP1Client(
            HTTPClientConfiguration(
                address: .tcp(host: host, port: port), maximumAnswerBytes: Self.maximumAnswerBytes,
                maximumIdleConnections: 0))
    }

    func send(
        _ method: HTTPMethod, _ path: String, headers extra: [(String, String)] = [], body: [UInt8]? = nil
    ) async throws -> Answer {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(host):\(port)")
        headers.add(name: "Connection", value: "close")
        for (name, value) in extra { headers.add(name: name, value: value) }
        if body != nil, !headers.contains(name: "Content-Type") {
            headers.add(name: "Content-Type", value: "application/json")
        }
        let request = HTTP1Request(
            method: method, path: path, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
        do {
            let answer = try await http.execute(request)
            return Answer(
                status: Int(answer.status.code), headers: answer.headers.map { ($0.name, $0.value) },
                body: Array(answer.body.readableBytesView))
        } catch HTTP1ClientError.connectionClosed {
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
