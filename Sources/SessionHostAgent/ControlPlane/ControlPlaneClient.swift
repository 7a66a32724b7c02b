import NIOCore
import NIOHTTP1
import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The agent's side of gsmsd's agent-facing API (docs/control-plane-api.md), authenticated with
/// the fleet secret and the host's own key. Every call is one HTTP/1.1 request with a deadline, on a reused keep-alive
/// connection; failures are `ControlPlaneError`s that say whether a retry can help.
struct ControlPlaneClient: Sendable, CustomStringConvertible {
    let endpoint: ControlPlaneEndpoint
    let fleetSecret: String
    let hostKey: String
    let sessionHostId: String
    private let connections: HTTPConnectionPool

    /// Never shows the fleet secret or the host key (service descriptions are logged).
    var description: String { "ControlPlaneClient(\(endpoint), host \(sessionHostId))" }

    /// Deadline of calls that are not held on purpose.
    static let callTimeout: TimeAmount = .seconds(10)

    init(
        baseURL: String, fleetSecret: String, hostKey: String, sessionHostId: String, eventLoopGroup: any EventLoopGroup
    ) throws(InvalidInput) {
        endpoint = try ControlPlaneEndpoint(url: baseURL)
        self.fleetSecret = fleetSecret
        self.hostKey = hostKey
        self.sessionHostId = sessionHostId
        connections = HTTPConnectionPool(endpoint: endpoint, eventLoopGroup: eventLoopGroup)
    }

    /// Host ids are checked at start-up: visible characters without '/' need no escaping.
    private var hostPath: String { "/agent/v1/hosts/" + sessionHostId }

    /// `PUT /agent/v1/hosts/{id}`.
    func register(_ registration: HostRegistration) async throws(ControlPlaneError) -> HostStatus {
        try await call(.PUT, hostPath, body: registration, as: HostStatus.self)
    }

    /// `POST /agent/v1/hosts/{id}/heartbeat`.
    func heartbeat(_ heartbeat: HostHeartbeat) async throws(ControlPlaneError) -> HostStatus {
        try await call(.POST, hostPath + "/heartbeat", body: heartbeat, as: HostStatus.self)
    }

    /// `GET /agent/v1/hosts/{id}/handoff?wait=SECONDS`: held until a session is allocated here.
    func nextHandoff(wait seconds: Int) async throws(ControlPlaneError) -> Handoff? {
        try await call(
            .GET, hostPath + "/handoff?wait=\(seconds)", body: nil as HostSessionReference?, as: HandoffPoll.self,
            timeout: .seconds(Int64(seconds) + 10)
        ).handoff
    }

    /// `POST /agent/v1/hosts/{id}/ack`: the hand-off is saved here; a 200 means gsmsd confirmed it.
    func acknowledge(sessionId: String, timeout: TimeAmount = callTimeout) async throws(ControlPlaneError) -> HostStatus {
        try await call(.POST, hostPath + "/ack", body: HostSessionReference(sessionId: sessionId), as: HostStatus.self, timeout: timeout)
    }

    /// `POST /agent/v1/hosts/{id}/end`: the game finished the session.
    func endSession(sessionId: String) async throws(ControlPlaneError) -> HostStatus {
        try await call(.POST, hostPath + "/end", body: HostSessionReference(sessionId: sessionId), as: HostStatus.self)
    }

    /// `DELETE /agent/v1/hosts/{id}`.
    func deregister() async throws(ControlPlaneError) {
        _ = try await call(.DELETE, hostPath, body: nil as HostSessionReference?, as: Deregistration.self, timeout: .seconds(3))
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
            if bytes != nil || method == .POST || method == .PUT {
                headers.add(name: "Content-Length", value: String(bytes?.readableBytes ?? 0))
            }
            let head = HTTPRequestHead(version: .http1_1, method: method, uri: endpoint.pathPrefix + path, headers: headers)
            let response = try await connections.execute(head, body: bytes, timeout: timeout)
            let data = Data(response.body.readableBytesView)
            guard response.status == .ok else {
                let error = try? JSONDecoder().decode(ErrorBody.self, from: data)
                throw ControlPlaneError(
                    status: Int(response.status.code), code: error?.code ?? "HTTP\(response.status.code)",
                    message: error?.message ?? "gsmsd answered \(response.status)")
            }
            return try JSONDecoder().decode(Answer.self, from: data)
        } catch let error as ControlPlaneError {
            throw error
        } catch let error as DecodingError {
            throw ControlPlaneError(status: nil, code: "InvalidAnswer", message: "gsmsd's answer to \(method) \(path) is not understood: \(DecodingErrorDescription.describe(error))")
        } catch {
            throw ControlPlaneError(status: nil, code: "Unreachable", message: "cannot reach gsmsd at \(endpoint): \(error)")
        }
    }
}

/// A failed call to gsmsd: an HTTP refusal (`status` set) or no answer at all.
struct ControlPlaneError: Error, Sendable, CustomStringConvertible {
    var status: Int?
    var code: String
    var message: String

    var description: String { "\(code): \(message)" }

    /// gsmsd does not know this host (it must register again).
    var isUnknownHost: Bool { status == 404 && code == "UnknownHost" }

    /// gsmsd binds this host id to another agent's key.
    var isForeignHostKey: Bool { status == 403 && code == "HostKeyMismatch" }

    /// A refusal a retry will not change (bad request, bad secret, conflict).
    var isRefusal: Bool { if let status { return (400..<500).contains(status) && status != 408 && status != 429 } else { return false } }
}
