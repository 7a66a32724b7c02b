import Foundation
import SessionHostModel
import SessionHostSDK
import Testing

/// gsmsd offers hand-offs only to hosts whose channel is alive (docs/control-plane-api.md,
/// "Liveness of the channel"), with a real agent whose held poll dies with it.
@Suite("hand-off channels end to end", .serialized)
struct HandoffChannelEndToEndTests {
    static let firstSession = "3536d3e6-e85d-4f47-b898-9617d19dabcd"
    static let secondSession = "4536d3e6-e85d-4f47-b898-9617d19dabcd"

    /// The value of an unlabelled gauge in gsmsd's `/metrics`.
    static func gauge(_ gsms: GSMSProcess, _ name: String) async throws -> Double? {
        let answer = try await gsms.client.send(.GET, "/metrics")
        let line = answer.text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.dropFirst(name.count + 1)) }
    }

    @Test("a host whose agent died while its poll was held is passed over, and taken again once its agent polls")
    func deadChannelIsPassedOver() async throws {
        // Hosts stay live for a minute without heartbeats, and a hand-off waits 30 s: without the
        // channel check, the dead host (StandingBy longest) would be claimed and set Unhealthy.
        let gsms = try await GSMSProcess(arguments: ["--handoff-timeout", "30", "--host-timeout", "60"])
        let agent = try await EndToEndHandoffTests.agent(gsms, hostId: "vm-1")
        let game = AgentClient(socketPath: agent.socketPath)
        _ = try await game.ready()
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy")
        try await Deadline.waitUntilAsync("vm-1's agent to hold its hand-off poll", timeout: .seconds(20)) {
            try await Self.gauge(gsms, "gsms_handoff_channels_up") == 1
        }
        try await gsms.register(host: "vm-2")

        _ = try await agent.stop(signal: SIGKILL)
        try await Deadline.waitUntilAsync("gsmsd to see vm-1's channel die", timeout: .seconds(20)) {
            try await Self.gauge(gsms, "gsms_handoff_channels_down") == 1
        }
        let other = gsms.acknowledgeNextHandoff(host: "vm-2")
        let answer = try await gsms.allocate(["sessionId": Self.firstSession])
        #expect(answer.status == 200, "\(answer)")
        #expect(answer.json["sessionHostId"] as? String == "vm-2")
        #expect(try await other.value?.sessionId == Self.firstSession)
        #expect(
            try await gsms.hostStatus("vm-1").json["state"] as? String == "StandingBy",
            "vm-1 was never offered the session")

        // The agent comes back and polls: its host is a candidate again.
        try await agent.restart()
        try await Deadline.waitUntilAsync("vm-1's channel to be up again", timeout: .seconds(20)) {
            try await Self.gauge(gsms, "gsms_handoff_channels_down") == 0
        }
        let waiting = Task { try await game.session(wait: .seconds(30)) }
        let again = try await gsms.allocate(["sessionId": Self.secondSession])
        #expect(again.status == 200, "\(again)")
        #expect(again.json["sessionHostId"] as? String == "vm-1")
        #expect(try await waiting.value.sessionId == Self.secondSession)
        try await agent.stop()
        try await gsms.stop()
    }

    @Test("gsmsd stopped while polls are held: each is answered empty at once, and gsmsd exits 0")
    func stopWithPollsHeld() async throws {
        let gsms = try await GSMSProcess()
        try await gsms.register(host: "vm-1")
        try await gsms.register(host: "vm-2")
        // One poll of each form, both for the longest wait gsmsd allows.
        let single = Task { try await gsms.handoff(host: "vm-1", wait: 300) }
        let channel = Task {
            try await gsms.client.send(
                .POST, "/agent/v1/handoffs", headers: gsms.agentHeaders("vm-2"),
                json: ["sessionHostIds": ["vm-2"], "wait": 300])
        }
        try await Deadline.waitUntilAsync("both polls to be held", timeout: .seconds(20)) {
            try await Self.gauge(gsms, "gsms_handoff_channels_up") == 2
        }
        let status = try await gsms.daemon.stop(signal: SIGTERM, timeout: .seconds(20))
        #expect(status == 0, "\(gsms.log)")
        #expect(try await single.value == nil)
        let answer = try await channel.value
        #expect(answer.status == 200, "\(answer)")
        #expect(try answer.decode(HandoffsPoll.self).handoffs.isEmpty, "\(answer)")
    }
}
