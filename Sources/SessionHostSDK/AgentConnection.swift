import NIOCore
import NIOHTTP1
import SessionHostHTTP

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The SDK's HTTP/1.1 client of the agent socket: `SessionHostHTTP`'s client on a Unix socket,
/// one connection per request (`Connection: close`), answers up to
/// ``AgentClient/maximumAnswerBytes``, and its failures as ``AgentClientError``s in words.
struct AgentConnection: Sendable {
    let socketPath: String
    private let http: HTTP1Client

    struct Response: Sendable {
        var status: Int
        var body: [UInt8]
    }

    init(socketPath: String, maximumAnswerBytes: Int) {
        self.socketPath = socketPath
        http = HTTP1Client(
            HTTPClientConfiguration(
                address: .unix(path: socketPath), maximumAnswerBytes: maximumAnswerBytes, maximumIdleConnections: 0))
    }

    /// Sends one request and reads the whole answer.
    func send(method: HTTPMethod, path: String, body: [UInt8]? = nil) async throws -> Response {
        do {
            let answer = try await http.execute(Self.request(method: method, path: path, body: body))
            return Response(status: Int(answer.status.code), body: Array(answer.body.readableBytesView))
        } catch let error as HTTP1ClientError {
            throw agentError(error)
        }
    }

    /// Sends one request and hands each line of a streamed answer to `onLine`; returns the
    /// status and, for a non-200 answer, the body.
    func stream(path: String, onLine: @Sendable ([UInt8]) async throws -> Void) async throws -> Response {
        do {
            let answer = try await http.stream(Self.request(method: .GET, path: path, body: nil), onLine: onLine)
            return Response(status: Int(answer.status.code), body: Array(answer.body.readableBytesView))
        } catch let error as HTTP1ClientError {
            throw agentError(error)
        }
    }

    private static func request(method: HTTPMethod, path: String, body: [UInt8]?) -> HTTP1Request {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "localhost")
        headers.add(name: "Connection", value: "close")
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        return HTTP1Request(method: method, path: path, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
    }

    private func agentError(_ error: HTTP1ClientError) -> AgentClientError {
        switch error {
        case .cannotConnect(_, let reason):
            AgentClientError(
                status: nil, code: "AgentUnreachable", message: Self.connectFailure(reason, socketPath: socketPath))
        case .answerTooLarge(let limit):
            AgentClientError(
                status: nil, code: "InvalidAnswer",
                message: "the agent's answer is over \(limit) bytes, more than this client reads")
        case .connectionClosed:
            AgentClientError(
                status: nil, code: "InvalidAnswer", message: "the agent closed the connection before answering")
        case .timedOut:
            AgentClientError(
                status: nil, code: "AgentUnreachable", message: "the agent at \(socketPath) did not answer in time")
        case .busy:
            AgentClientError(
                status: nil, code: "AgentUnreachable", message: "the connection to the agent at \(socketPath) is busy")
        }
    }

    /// Why the agent's socket could not be reached, and what to do, in words (not the
    /// system call that failed).
    static func connectFailure(_ reason: HTTPConnectFailure, socketPath: String) -> String {
        switch reason {
        case .noSocket:
            "there is no agent socket at \(socketPath): is sessionhostd running? If it listens elsewhere, give --socket or set SESSIONHOST_SOCKET"
        case .permissionDenied:
            "permission denied on \(socketPath): run as the agent's user or root, or as a member of the socket's group (sessionhost; `usermod -aG sessionhost USER`)"
        case .refused:
            "nothing answers on \(socketPath) (a socket file left behind): is sessionhostd running? `systemctl status sessionhostd`"
        case .notASocket:
            "\(socketPath) is not a socket: give --socket the agent's socket (default /run/sessionhost/agent.sock)"
        case .busy:
            "the agent at \(socketPath) is too busy to take the connection; try again"
        case .timedOut, .other:
            "cannot connect to the agent at \(socketPath): \(reason). Is sessionhostd running, and is this user in its group? Give --socket or set SESSIONHOST_SOCKET for another path"
        }
    }
}
