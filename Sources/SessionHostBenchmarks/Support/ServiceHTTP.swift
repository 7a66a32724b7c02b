import Foundation
import NIOCore
import NIOHTTP1
import SessionHostHTTP
import SessionHostModel

/// Requests to gsmsd with `SessionHostHTTP`'s client (what `sessionhostd` uses), over keep-alive
/// connections from one pool.
struct ServiceHTTP: Sendable {
    let client: HTTP1Client
    let baseURL: String

    struct Answer: Sendable {
        var status: Int
        var body: ByteBuffer

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
        }

        /// The `code` of an error body, or `HTTP<status>`.
        var errorCode: String {
            (try? decode(ErrorBody.self).code) ?? "HTTP\(status)"
        }
    }

    /// A client keeping up to `connections` idle connections to gsmsd at `baseURL`
    /// (`http://host:port`).
    static func make(baseURL: String, connections: Int, group: any EventLoopGroup) -> ServiceHTTP {
        let authority = baseURL.hasPrefix("http://") ? baseURL.dropFirst("http://".count) : Substring(baseURL)
        let colon = authority.lastIndex(of: ":")
        let host = colon.map { String(authority[..<$0]) } ?? String(authority)
        let port = colon.flatMap { Int(authority[authority.index(after: $0)...]) } ?? 80
        let configuration = HTTPClientConfiguration(
            address: .tcp(host: host, port: port), maximumAnswerBytes: 1 << 20, maximumIdleConnections: connections,
            connectAttemptTimeout: .seconds(10))
        return ServiceHTTP(client: HTTP1Client(configuration, eventLoopGroup: group), baseURL: baseURL)
    }

    func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeout: TimeAmount = .seconds(60)
    ) async throws -> Answer {
        var request = HTTP1Request(method: method, path: path)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = ByteBuffer(bytes: body)
        }
        let response = try await client.execute(request, timeout: timeout)
        return Answer(status: Int(response.status.code), body: response.body)
    }

    func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], json: some Encodable,
        timeout: TimeAmount = .seconds(60)
    ) async throws -> Answer {
        try await send(method, path, headers: headers, body: Array(try JSONEncoder().encode(json)), timeout: timeout)
    }

    func shutdown() async {
        await client.shutdown()
    }
}
