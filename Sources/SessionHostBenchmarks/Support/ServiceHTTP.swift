import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SessionHostModel

/// Requests to gsmsd with AsyncHTTPClient (what `SessionHostTitleClient` and `sessionhostd` use),
/// over keep-alive connections from one pool.
struct ServiceHTTP: Sendable {
    let client: HTTPClient
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

    /// A client allowed `connections` connections to gsmsd at once.
    static func make(baseURL: String, connections: Int, group: any EventLoopGroup) -> ServiceHTTP {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10))
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        configuration.connectionPool.retryConnectionEstablishment = false
        return ServiceHTTP(client: HTTPClient(eventLoopGroup: group, configuration: configuration), baseURL: baseURL)
    }

    func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeout: TimeAmount = .seconds(60)
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Answer(status: Int(response.status.code), body: bytes)
    }

    func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], json: some Encodable,
        timeout: TimeAmount = .seconds(60)
    ) async throws -> Answer {
        try await send(method, path, headers: headers, body: Array(try JSONEncoder().encode(json)), timeout: timeout)
    }

    func shutdown() async {
        try? await client.shutdown()
    }
}
