import Foundation
import NIOHTTP1
import SessionHostModel

/// Something that sends a test request to gsmsd and returns the whole answer: `HTTPTestClient`
/// (a gsmsd process) or `GSMSInProcess.Driver.Client` (gsmsd in process).
protocol GSMSTestSender: Sendable {
    func send(
        _ method: NIOHTTP1.HTTPMethod, _ path: String, headers: [(String, String)], body: [UInt8]?
    ) async throws -> HTTPTestClient.Answer
}

extension HTTPTestClient: GSMSTestSender {}
extension GSMSInProcess.Driver.Client: GSMSTestSender {}

/// The calls of a simulated agent on gsmsd's agent-facing API, the same whether gsmsd runs as a
/// process (`GSMSProcess`) or in process (`GSMSInProcess.Driver`).
protocol SimulatedAgentCalls: Sendable {
    associatedtype Sender: GSMSTestSender
    var client: Sender { get }
    /// The headers the simulated agent of `host` sends (fleet secret, host key).
    func agentHeaders(_ host: String) -> [(String, String)]
}

extension SimulatedAgentCalls {
    private func send(_ method: NIOHTTP1.HTTPMethod, _ path: String, host: String, json: Any? = nil) async throws
        -> HTTPTestClient.Answer
    {
        let body = try json.map { [UInt8](try JSONSerialization.data(withJSONObject: $0)) }
        return try await client.send(method, path, headers: agentHeaders(host), body: body)
    }

    /// Registers a host (StandingBy unless told otherwise).
    @discardableResult
    func register(
        host: String, title: String = "1234", region: String = "WestUS", state: String = "StandingBy",
        extra: [String: Any] = [:]
    ) async throws -> HTTPTestClient.Answer {
        var body: [String: Any] = [
            "titleId": title, "region": region, "hostName": "\(host).example.net",
            "portMappings": [["Key": "game", "Value": ["internal": 7777, "external": 30000]]],
            "secureContext": "AQDc8Hen/QCDJwWRPcW/1QEEAiABAACdOJU8JNujcXyUPwUBCnue+g==", "state": state,
            "health": "Healthy",
        ]
        for (key, value) in extra { body[key] = value }
        return try await send(.PUT, "/agent/v1/hosts/\(host)", host: host, json: body)
    }

    /// Waits (held request) for a hand-off to `host`; its JSON, or nil when none came.
    func handoff(host: String, wait: Int = 10) async throws -> Handoff? {
        let answer = try await send(.GET, "/agent/v1/hosts/\(host)/handoff?wait=\(wait)", host: host)
        guard answer.status == 200 else { throw TestFailure("handoff poll: \(answer)") }
        return try answer.decode(HandoffPoll.self).handoff
    }

    @discardableResult
    func acknowledge(host: String, sessionId: String) async throws -> HTTPTestClient.Answer {
        try await send(.POST, "/agent/v1/hosts/\(host)/ack", host: host, json: ["sessionId": sessionId])
    }

    /// A simulated agent: waits for one hand-off to `host` and acknowledges it; returns it.
    func acknowledgeNextHandoff(host: String, wait: Int = 20) -> Task<Handoff?, any Error> {
        Task {
            guard let handoff = try await self.handoff(host: host, wait: wait) else { return nil }
            let answer = try await self.acknowledge(host: host, sessionId: handoff.sessionId)
            guard answer.status == 200 else { throw TestFailure("ack: \(answer)") }
            return handoff
        }
    }

    func hostStatus(_ host: String) async throws -> HTTPTestClient.Answer {
        try await send(.GET, "/agent/v1/hosts/\(host)", host: host)
    }
}
