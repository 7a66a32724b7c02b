import Foundation
import SessionHostSDK
import Testing

@Suite("SessionHostSDK cancellation")
struct AgentClientCancellationTests {
    @Test("cancelling a task that waits for its session ends the wait promptly")
    func cancelWaitingForSession() async throws {
        let agent = try await AgentProcess.started(arguments: ["--health-timeout", "0"])
        let client = AgentClient(socketPath: agent.socketPath)
        try await client.ready()
        let started = ContinuousClock.now
        let waiting = Task { try await client.session(wait: .seconds(300)) }
        // The wait is held by the agent (no session will come); cancel it once it is in flight.
        try await Task.sleep(for: .milliseconds(200))
        waiting.cancel()
        let outcome = await waiting.result
        #expect(ContinuousClock.now - started < .seconds(60))
        if case .success(let session) = outcome {
            #expect(session.sessionId == nil)
        }
        // The agent is unharmed and still answers.
        #expect(try await client.session().state == .standingBy)
        try await agent.stop()
    }
}
