import Foundation
import NIOHTTP1
import SessionHostHTTP
import SessionHostModel
import Synchronization

/// A gsmsd that answers the agent's channel from a script the test changes: it assigns or takes
/// away a session, puts a drain in its answers, and records every sync report the agent sent.
/// Hand-off polls are answered empty after a short hold.
final class FakeGSMS: Sendable {
    struct Assignment: Sendable {
        var revision: Int64 = 1
        var sessionId: String?
        var drain: DrainNotice?
    }

    /// What the script reads and the test changes.
    final class State: Sendable {
        let assignment = Mutex(Assignment())
        let reports = Mutex<[HostSyncReport]>([])
    }

    private let server: ScriptedHTTPServer
    private let state = State()
    let port: Int

    init() async throws {
        let state = self.state
        server = try await ScriptedHTTPServer(.tcp(host: "127.0.0.1", port: 0)) { request, writer in
            try await Self.answer(request, writer, state: state)
        }
        guard case .tcp(_, let port) = server.address else { throw TestFailure("the fake gsmsd has no port") }
        self.port = port
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Every sync report so far, in order.
    var recorded: [HostSyncReport] { state.reports.withLock { $0 } }

    /// The heartbeats so far, in order.
    var heartbeats: [HostHeartbeat] { recorded.compactMap(\.heartbeat) }

    /// Gives the host `sessionId` (or takes its session away with `nil`), with a newer revision.
    func assign(_ sessionId: String?) {
        state.assignment.withLock {
            $0.sessionId = sessionId
            $0.revision += 1
        }
    }

    /// Puts `drain` in every answer from now on.
    func drain(_ notice: DrainNotice) {
        state.assignment.withLock { $0.drain = notice }
    }

    /// Waits until a recorded report satisfies `condition`.
    func waitFor(
        _ description: String, timeout: Duration = .seconds(30), _ condition: @escaping (HostSyncReport) -> Bool
    ) async throws {
        try await Deadline.waitUntil(description, timeout: timeout) { recorded.contains(where: condition) }
    }

    func stop() async { await server.stop() }

    private static func answer(
        _ request: ScriptedHTTPServer.Request, _ writer: ScriptedHTTPServer.Writer, state: State
    ) async throws -> Bool {
        let encoder = JSONEncoder()
        func status(_ hostId: String) -> HostStatus {
            let current = state.assignment.withLock { $0 }
            return HostStatus(
                sessionHostId: hostId, titleId: "1234", state: current.sessionId == nil ? .standingBy : .active,
                sessionId: current.sessionId, sessionCookie: current.sessionId == nil ? nil : "from-fake",
                allocatedAt: current.sessionId == nil ? nil : "2026-12-07T17:00:00.000Z",
                heartbeatIntervalMilliseconds: 200, revision: current.revision, drain: current.drain)
        }
        switch (request.method, request.path) {
        case (.POST, "/agent/v1/sync"):
            let sync = try JSONDecoder().decode(HostSyncRequest.self, from: Data(request.body))
            state.reports.withLock { $0 += sync.hosts }
            let answer = HostSyncAnswer(
                hosts: sync.hosts.map {
                    HostSyncResult(sessionHostId: $0.sessionHostId, status: status($0.sessionHostId))
                })
            try await ScriptedHTTPServer.answer(writer, body: Array(try encoder.encode(answer)))
        case (.POST, "/agent/v1/handoffs"):
            try? await Task.sleep(for: .milliseconds(200))
            try await ScriptedHTTPServer.answer(writer, body: Array(try encoder.encode(HandoffsPoll(handoffs: []))))
        case (.POST, let path) where path.hasSuffix("/end"):
            let hostId = path.split(separator: "/").dropLast().last.map(String.init) ?? ""
            state.assignment.withLock {
                $0.sessionId = nil
                $0.revision += 1
            }
            try await ScriptedHTTPServer.answer(writer, body: Array(try encoder.encode(status(hostId))))
        case (.DELETE, let path):
            let hostId = path.split(separator: "/").last.map(String.init) ?? ""
            let body = Deregistration(sessionHostId: hostId, deregistered: true)
            try await ScriptedHTTPServer.answer(writer, body: Array(try encoder.encode(body)))
        default:
            let body = ErrorBody(code: "NotFound", message: "the fake gsmsd does not serve \(request.path)")
            try await ScriptedHTTPServer.answer(writer, .notFound, body: Array(try encoder.encode(body)))
        }
        return true
    }
}
