import Foundation
import SessionHostSDK
import Testing

@Suite("SessionHostSDK cancellation")
struct AgentClientCancellationTests {
    @Test("cancelling a task that waits for its session ends the wait promptly")
    func cancelWaitingForSession() async throws {
        let agent = try await AgentProcess.started(arguments: ["--health-timeout", "0"])
        try await AgentClient(socketPath: agent.socketPath).ready()
        // The client talks to the agent through a proxy, which says when the request is in flight.
        let proxy = try await HTTPRecordingProxy(
            listen: .unix(path: agent.directory.file("proxy.sock")), upstream: .unix(path: agent.socketPath))
        guard case .unix(let proxyPath) = proxy.address else { throw TestFailure("the proxy is not on a Unix socket") }
        let client = AgentClient(socketPath: proxyPath)
        let started = ContinuousClock.now
        let waiting = Task { try await client.session(wait: .seconds(300)) }
        // No session will come: the wait is held until it is cancelled.
        try await proxy.waitUntil("the waiting request") { log in
            log.contains { $0.method == "GET" && $0.path.hasPrefix("/v1/session?wait=") }
        }
        waiting.cancel()
        let outcome = await waiting.result
        #expect(ContinuousClock.now - started < .seconds(60))
        if case .success(let session) = outcome {
            #expect(session.sessionId == nil)
        }
        // The proxy drops its connection to the agent in the middle of the long poll; the agent
        // is unharmed and still answers.
        await proxy.stop()
        #expect(try await AgentClient(socketPath: agent.socketPath).session().state == .standingBy)
        try await agent.stop()
    }
}
