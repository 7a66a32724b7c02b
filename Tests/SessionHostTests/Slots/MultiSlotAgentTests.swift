import Foundation
import SessionHostAgent
import SessionHostModel
import SessionHostSDK
import Systemd
import Testing

@Suite("Slots end to end: one real sessionhostd with --slots 3 (local mode)")
struct MultiSlotAgentTests {
    static let sessionId = "5a1c2b3d-0000-4000-8000-00000000a002"

    @Test(
        "each slot's socket serves its own host and ports; one slot going Unhealthy leaves the others; STATUS counts slots; SIGKILL keeps every slot's session"
    )
    func threeSlots() async throws {
        let agent = try await AgentProcess.started(arguments: [
            "--title-id", "1234ABCD", "--slots", "3", "--port", "game:udp:7777:30000", "--health-timeout", "3",
        ])
        let clients = (1...3).map { AgentClient(socketPath: SlotPlan.socketPath(of: $0, beside: agent.socketPath)) }
        var ids: [String] = []
        for (index, client) in clients.enumerated() {
            let host = try await client.host()
            ids.append(host.sessionHostId)
            #expect(host.portMappings.first?.ports.internal == 7777 + index)
            #expect(host.portMappings.first?.ports.external == 30000 + index)
            #expect(host.state == .initializing)
        }
        #expect(Set(ids).count == 3)

        // Slot 2 plays a match and heartbeats; slot 3 calls ready and then goes silent.
        _ = try await clients[1].ready()
        _ = try await clients[1].allocateLocally(sessionId: Self.sessionId, sessionCookie: "for slot two")
        let heartbeats = Task {
            while !Task.isCancelled {
                _ = try? await clients[1].heartbeat()
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        defer { heartbeats.cancel() }
        _ = try await clients[2].ready()
        try await agent.waitForStatus(containing: "3 slots: 1 Initializing, 1 Active, 1 Unhealthy")
        #expect(try await clients[1].session().state == .active)
        #expect(try await clients[0].host().state == .initializing)

        // The main socket: this test runs in no template unit instance of a slot (or, if it
        // does, it is that slot's).
        let main = AgentClient(socketPath: agent.socketPath)
        let (status, body) = try await main.raw(method: "GET", path: "/v1/host")
        if let unit = SystemdUnit.of(pid: getpid()), let instance = SystemdUnit.instance(of: unit),
            let number = Int(instance), (1...3).contains(number)
        {
            #expect(status == 200)
        } else {
            #expect(status == 400)
            #expect(String(decoding: body, as: UTF8.self).contains("SlotUnknown"))
        }

        heartbeats.cancel()
        try await agent.stop(signal: SIGKILL)
        try await agent.restart()
        for (index, client) in clients.enumerated() {
            #expect(try await client.host().sessionHostId == ids[index])
        }
        let session = try await clients[1].session()
        #expect(session.state == .active)
        #expect(session.sessionId == Self.sessionId)
        #expect(session.sessionCookie == "for slot two")
        #expect(try await clients[0].session().sessionId == nil)
        try await agent.stop()
    }
}
