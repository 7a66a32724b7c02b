import NIOCore
import NIOHTTP1
import SessionHostHTTP

/// A scaling hook that POSTs the request JSON to `http://host:port/path` (`Content-Type:
/// application/json`), with the package's HTTP/1.1 client, a new connection each time. Any 2xx
/// answer is success.
struct ScalingHookWebhook: ScalingHook {
    let host: String
    let port: Int
    let path: String
    let timeout: Duration
    private let client: HTTP1Client

    init(host: String, port: Int, path: String, timeout: Duration) {
        self.host = host
        self.port = port
        self.path = path
        self.timeout = timeout
        client = HTTP1Client(
            HTTPClientConfiguration(
                address: .tcp(host: host, port: port), maximumAnswerBytes: 64 * 1024, maximumIdleConnections: 0))
    }

    func send(_ body: [UInt8]) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        let request = HTTP1Request(method: .POST, path: path, headers: headers, body: ByteBuffer(bytes: body))
        let address = HTTPClientAddress.tcp(host: host, port: port)
        let response: HTTP1Response
        do {
            response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout / .nanoseconds(1))))
        } catch HTTP1ClientError.timedOut {
            throw ScalingHookError(.timedOut, "no answer from http://\(address)\(path) within \(timeout)")
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw ScalingHookError(.unreachable, "POST http://\(address)\(path) failed: \(error)")
        }
        guard (200..<300).contains(response.status.code) else {
            throw ScalingHookError(
                .rejected,
                "POST http://\(address)\(path) answered \(response.status.code) \(response.status.reasonPhrase)")
        }
    }
}
