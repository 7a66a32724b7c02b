import Foundation
import SessionHostModel
import SessionHostSDK
import Testing

/// A manager that does not read its notify socket must not stall the agent.
@Suite("sessionhostd with a notify socket nobody reads")
struct NotifySocketBackpressureTests {
    static let sessionId = "3536d3e6-e85d-4f47-b898-9617d19dabcd"

    /// How many datagrams a Unix datagram socket queues before senders would block.
    static var datagramQueueLength: Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/unix/max_dgram_qlen", encoding: .utf8)) ?? ""
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 512
    }

    @Test(
        "with the notify queue full the agent keeps answering and feeding the watchdog; the newest STATUS arrives once it is read"
    )
    func unreadNotifySocket() async throws {
        // A watchdog ping every 50 ms fills the queue by itself; nothing is read after READY=1.
        let agent = try await AgentProcess.started(
            arguments: ["--title-id", "1234ABCD"], environment: ["WATCHDOG_USEC": "100000"])
        let client = AgentClient(socketPath: agent.socketPath)
        _ = try await Deadline.within(.seconds(30), "POST /v1/ready") { try await client.ready() }
        // Each change is a STATUS= message: several queues' worth of them.
        for round in 0..<(Self.datagramQueueLength + 8) {
            _ = try await Deadline.within(.seconds(30), "an Unhealthy heartbeat (round \(round))") {
                try await client.heartbeat(HeartbeatRequest(health: .unhealthy))
            }
            _ = try await Deadline.within(.seconds(30), "a Healthy heartbeat (round \(round))") {
                try await client.heartbeat(HeartbeatRequest(health: .healthy))
            }
        }
        _ = try await Deadline.within(.seconds(30), "the local hand-off") {
            try await client.allocateLocally(sessionId: Self.sessionId, sessionCookie: nil)
        }
        #expect(try await Deadline.within(.seconds(30), "GET /v1/host") { try await client.host() }.state == .active)

        // The manager reads again: the newest state arrives, and the watchdog is still fed.
        try await agent.waitForStatus(containing: "Active session \(Self.sessionId)")
        let pings = agent.notify.received.filter { $0.contains("WATCHDOG=1") }.count
        try await agent.notify.waitFor("a WATCHDOG=1 after the queue was read") { _ in
            agent.notify.received.filter { $0.contains("WATCHDOG=1") }.count > pings
        }
        #expect(try await agent.stop() == 0)
    }
}
