#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOHTTP1
import SessionHostModel

@_exported import enum SessionHostModel.HostState
@_exported import struct SessionHostModel.HostInfo
@_exported import struct SessionHostModel.ControlPlaneStanding
@_exported import struct SessionHostModel.SessionInfo
@_exported import struct SessionHostModel.HostEvent
@_exported import struct SessionHostModel.HeartbeatRequest
@_exported import struct SessionHostModel.Player
@_exported import enum SessionHostModel.GameHealth
@_exported import struct SessionHostModel.PortMapping

/// An async client of the `sessionhostd` socket API (SPEC §3), for game servers and tools.
///
/// ```swift
/// let agent = AgentClient()                 // $SESSIONHOST_SOCKET or /run/sessionhost/agent.sock
/// _ = try await agent.ready()
/// let session = try await agent.session(wait: .seconds(60))
/// ```
public struct AgentClient: Sendable {
    /// The socket used when neither an argument nor `SESSIONHOST_SOCKET` names one.
    public static let defaultSocketPath = "/run/sessionhost/agent.sock"

    /// The largest answer read by default (the agent's answers are a few KiB; a larger one fails
    /// with `InvalidAnswer`). For an event stream: the longest event.
    public static let maximumAnswerBytes = 1 << 20

    public let socketPath: String
    private let http: AgentConnection

    /// - Parameters:
    ///   - socketPath: the agent socket; `nil` reads `SESSIONHOST_SOCKET`, else the default.
    ///   - maximumAnswerBytes: the largest answer read.
    public init(socketPath: String? = nil, maximumAnswerBytes: Int = AgentClient.maximumAnswerBytes) {
        let path =
            socketPath ?? ProcessInfo.processInfo.environment["SESSIONHOST_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Self.defaultSocketPath
        self.socketPath = path
        self.http = AgentConnection(socketPath: path, maximumAnswerBytes: maximumAnswerBytes)
    }

    /// `GET /v1/host`: who this host is.
    public func host() async throws -> HostInfo {
        try await call(.GET, "/v1/host")
    }

    /// `POST /v1/ready`: the game is ready for players; the host becomes StandingBy.
    @discardableResult
    public func ready() async throws -> SessionInfo {
        try await call(.POST, "/v1/ready")
    }

    /// `GET /v1/session`; with `wait`, holds until a session arrives or the time is up.
    public func session(wait: Duration? = nil) async throws -> SessionInfo {
        guard let wait, wait > .zero else { return try await call(.GET, "/v1/session") }
        let seconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
        return try await call(.GET, "/v1/session?wait=\(seconds)")
    }

    /// `POST /v1/heartbeat` with optional health and players.
    @discardableResult
    public func heartbeat(_ heartbeat: HeartbeatRequest = HeartbeatRequest()) async throws -> SessionInfo {
        try await call(.POST, "/v1/heartbeat", body: heartbeat)
    }

    /// `POST /v1/session/end`: the game finished its session.
    @discardableResult
    public func endSession() async throws -> SessionInfo {
        try await call(.POST, "/v1/session/end")
    }

    /// Local mode only, and only for root or the agent's user: hands the host a session.
    @discardableResult
    public func allocateLocally(sessionId: String, sessionCookie: String?) async throws -> SessionInfo {
        try await call(
            .POST, "/v1/local/allocate", body: AllocationRequest(sessionId: sessionId, sessionCookie: sessionCookie))
    }

    /// `POST /v1/drain` (root or the agent's own user): the VM takes no new session, and its
    /// running sessions end by the deadline. Answers the host, with the drain in force.
    @discardableResult
    public func drain(_ request: DrainCommandRequest = DrainCommandRequest()) async throws -> HostInfo {
        try await call(.POST, "/v1/drain", body: request)
    }

    /// `GET /v1/events`: the host's state changes, starting with the current state.
    public func events() -> AsyncThrowingStream<HostEvent, any Error> {
        let http = self.http
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let response = try await http.stream(path: "/v1/events") { line in
                        do {
                            continuation.yield(try JSONDecoder().decode(HostEvent.self, from: Data(line)))
                        } catch {
                            throw AgentClientError(
                                status: 200, code: "InvalidAnswer",
                                message: "the agent sent an event that is not valid JSON")
                        }
                    }
                    if response.status != 200 { throw Self.error(from: response) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: Plumbing

    /// The raw answer to a request, for tools that print it as it is.
    public func raw(method: String, path: String, body: [UInt8]? = nil) async throws -> (status: Int, body: [UInt8]) {
        let response = try await http.send(method: HTTPMethod(rawValue: method), path: path, body: body)
        return (response.status, response.body)
    }

    private func call<Answer: Decodable>(_ method: HTTPMethod, _ path: String) async throws -> Answer {
        try await decode(http.send(method: method, path: path))
    }

    private func call<Answer: Decodable>(_ method: HTTPMethod, _ path: String, body: some Encodable) async throws
        -> Answer
    {
        let bytes = Array(try JSONEncoder().encode(body))
        return try await decode(http.send(method: method, path: path, body: bytes))
    }

    private func decode<Answer: Decodable>(_ response: AgentConnection.Response) throws -> Answer {
        guard response.status == 200 else { throw Self.error(from: response) }
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(response.body))
        } catch {
            throw AgentClientError(
                status: response.status, code: "InvalidAnswer",
                message: "the agent's answer is not what this client expects")
        }
    }

    static func error(from response: AgentConnection.Response) -> AgentClientError {
        if let body = try? JSONDecoder().decode(ErrorBody.self, from: Data(response.body)) {
            return AgentClientError(status: response.status, code: body.code, message: body.message)
        }
        return AgentClientError(
            status: response.status, code: "HTTP\(response.status)",
            message: "the agent answered HTTP \(response.status)")
    }
}
