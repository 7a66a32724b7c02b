import NIOCore
import NIOHTTP1
import SessionHostHTTP
import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// The agent's side of gsmsd's agent-facing API (docs/control-plane-api.md), for all of its
/// slots, authenticated with the fleet secret and the agent's key (bound to every slot's host
/// id). Every call is one HTTP/1.1 request with a deadline, on a reused keep-alive connection;
/// failures are `ControlPlaneError`s that say whether a retry can help.
struct ControlPlaneClient: Sendable, CustomStringConvertible {
    let endpoint: ControlPlaneEndpoint
    let fleetSecret: String
    let hostKey: String
    private let connections: HTTP1Client

    /// Never shows the fleet secret or the host key (service descriptions are logged).
    var description: String { "ControlPlaneClient(\(endpoint))" }

    /// Deadline of calls that are not held on purpose.
    static let callTimeout: TimeAmount = .seconds(10)
    /// The largest answer accepted.
    static let maximumAnswerBytes = 1 << 20
    /// The agent has the held hand-off poll and one sync in flight, and per slot at most an
    /// acknowledgement or a session end: a few idle connections cover it.
    static let maximumIdleConnections = 4
    /// The longest a connection attempt may take before it is retried on a new socket (a SYN lost
    /// to a partition is otherwise retried by the kernel only after 1, 3, 7… seconds).
    static let maximumConnectTime = TimeAmount.seconds(1)
    /// TCP keepalive on every connection: probes after 1 s of silence, every second; the kernel
    /// gives the connection up when nothing has been acknowledged for 2.5 s. A held hand-off poll
    /// on a dead connection (gsmsd's machine gone, a partition) thus fails within about 2.5 s and
    /// the agent polls again on a new one (docs/control-plane-api.md, "Liveness of the channel").
    static let keepalive: [HTTPClientSocketOption] = [
        HTTPClientSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_KEEPALIVE), value: 1),
        HTTPClientSocketOption(level: SocketOptionLevel(IPPROTO_TCP), name: SocketOptionName(TCP_KEEPIDLE), value: 1),
        HTTPClientSocketOption(level: SocketOptionLevel(IPPROTO_TCP), name: SocketOptionName(TCP_KEEPINTVL), value: 1),
        HTTPClientSocketOption(level: SocketOptionLevel(IPPROTO_TCP), name: SocketOptionName(TCP_KEEPCNT), value: 2),
        HTTPClientSocketOption(
            level: SocketOptionLevel(IPPROTO_TCP), name: SocketOptionName(TCP_USER_TIMEOUT), value: 2500),
    ]

    /// The keep-alive HTTP/1.1 client for gsmsd at `endpoint`: TCP, or TLS for `https://`.
    static func httpClient(for endpoint: ControlPlaneEndpoint, eventLoopGroup: any EventLoopGroup) -> HTTP1Client {
        HTTP1Client(
            HTTPClientConfiguration(
                address: .tcp(host: endpoint.host, port: endpoint.port),
                tls: endpoint.usesTLS ? ControlPlaneTLS() : nil,
                maximumAnswerBytes: maximumAnswerBytes, maximumIdleConnections: maximumIdleConnections,
                connectAttemptTimeout: maximumConnectTime, socketOptions: keepalive),
            eventLoopGroup: eventLoopGroup)
    }

    init(
        baseURL: String, fleetSecret: String, hostKey: String, eventLoopGroup: any EventLoopGroup
    ) throws(InvalidInput) {
        endpoint = try ControlPlaneEndpoint(url: baseURL)
        self.fleetSecret = fleetSecret
        self.hostKey = hostKey
        connections = Self.httpClient(for: endpoint, eventLoopGroup: eventLoopGroup)
    }

    /// Host ids are checked at start-up: visible characters without '/' need no escaping.
    private func hostPath(_ sessionHostId: String) -> String { "/agent/v1/hosts/" + sessionHostId }

    /// `POST /agent/v1/sync`: registrations and heartbeats of several hosts in one request.
    func sync(_ request: HostSyncRequest) async throws(ControlPlaneError) -> HostSyncAnswer {
        try await call(.POST, "/agent/v1/sync", body: request, as: HostSyncAnswer.self)
    }

    /// `POST /agent/v1/handoffs`: held until a session is allocated to one of the hosts.
    func nextHandoffs(_ request: HandoffsPollRequest) async throws(ControlPlaneError) -> [Handoff] {
        try await call(
            .POST, "/agent/v1/handoffs", body: request, as: HandoffsPoll.self,
            timeout: .milliseconds(Int64((request.wait ?? 30) * 1000)) + .seconds(10)
        ).handoffs
    }

    /// `POST /agent/v1/hosts/{id}/ack`: the hand-off is saved here; a 200 means gsmsd confirmed it.
    func acknowledge(hostId: String, sessionId: String, timeout: TimeAmount = callTimeout)
        async throws(ControlPlaneError) -> HostStatus
    {
        try await call(
            .POST, hostPath(hostId) + "/ack", body: HostSessionReference(sessionId: sessionId), as: HostStatus.self,
            timeout: timeout)
    }

    /// `POST /agent/v1/hosts/{id}/end`: the game finished the session.
    func endSession(hostId: String, sessionId: String) async throws(ControlPlaneError) -> HostStatus {
        try await call(
            .POST, hostPath(hostId) + "/end", body: HostSessionReference(sessionId: sessionId), as: HostStatus.self)
    }

    /// `DELETE /agent/v1/hosts/{id}`.
    func deregister(hostId: String) async throws(ControlPlaneError) {
        _ = try await call(
            .DELETE, hostPath(hostId), body: nil as HostSessionReference?, as: Deregistration.self,
            timeout: .seconds(3))
    }

    /// Closes the idle connections (on shutdown).
    func shutdown() async {
        await connections.shutdown()
    }

    private func call<Body: Encodable, Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, body: Body?, as answer: Answer.Type, timeout: TimeAmount = callTimeout
    ) async throws(ControlPlaneError) -> Answer {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoint.hostHeader)
        headers.add(name: "Authorization", value: "Bearer " + fleetSecret)
        headers.add(name: "SessionHost-Key", value: hostKey)
        headers.add(name: "User-Agent", value: "sessionhostd")
        do {
            var bytes: ByteBuffer?
            if let body {
                bytes = ByteBuffer(bytes: try JSONEncoder().encode(body))
                headers.add(name: "Content-Type", value: "application/json")
            }
            // The client adds Content-Length (for a body, a POST or a PUT). Every call of the agent
            // API may be repeated: one that met a connection gsmsd had closed while it was idle is
            // sent again on a new one.
            let request = HTTP1Request(
                method: method, path: endpoint.pathPrefix + path, headers: headers, body: bytes, isIdempotent: true)
            let response = try await connections.execute(request, timeout: timeout)
            let data = Data(response.body.readableBytesView)
            guard response.status == .ok else {
                let error = try? JSONDecoder().decode(ErrorBody.self, from: data)
                throw ControlPlaneError(
                    status: Int(response.status.code),
                    code: error.map { ControlPlaneError.Code(rawValue: $0.code) } ?? .http(response.status.code),
                    message: error?.message ?? "gsmsd answered \(response.status)")
            }
            return try JSONDecoder().decode(Answer.self, from: data)
        } catch let error as ControlPlaneError {
            throw error
        } catch let error as DecodingError {
            throw ControlPlaneError(
                status: nil, code: .invalidAnswer,
                message:
                    "gsmsd's answer to \(method) \(path) is not understood: \(DecodingErrorDescription.describe(error))"
            )
        } catch {
            throw ControlPlaneError(
                status: nil, code: .unreachable, message: "cannot reach gsmsd at \(endpoint): \(error)")
        }
    }
}
