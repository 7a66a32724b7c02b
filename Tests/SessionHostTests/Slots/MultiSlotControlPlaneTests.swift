import Foundation
import SessionHostModel
import SessionHostSDK
import Testing

/// A real sessionhostd with several slots and a real gsmsd, through a recording proxy: the
/// agent's one channel (sync and one held poll) and hand-offs that reach the right slot.
@Suite("Slots with gsmsd: one channel for all slots", .serialized)
struct MultiSlotControlPlaneTests {
    static let slots = 4

    @Test(
        "4 slots register and heartbeat in sync requests that carry them together, hold one hand-off poll, and each allocation reaches its slot's game"
    )
    func fourSlotsOneChannel() async throws {
        let gsms = try await GSMSProcess(arguments: ["--host-timeout", "6"])
        let proxy = try await HTTPRecordingProxy(
            listen: .tcp(host: "127.0.0.1", port: 0), upstream: .tcp(host: "127.0.0.1", port: gsms.client.port))
        guard case .tcp(_, let proxyPort) = proxy.address else { throw TestFailure("the proxy has no TCP port") }
        let secretFile = gsms.directory.file("fleet.token")
        try Data((GSMSProcess.fleetSecret + "\n").utf8).write(to: URL(fileURLWithPath: secretFile))
        let agent = try await AgentProcess.started(arguments: [
            "--control-plane", "http://127.0.0.1:\(proxyPort)", "--agent-token-file", secretFile,
            "--title-id", "1234", "--host-id", "vm", "--slots", "\(Self.slots)", "--region", "WestUS",
            "--hostname", "vm.example.net", "--port", "game:udp:7777:30000", "--health-timeout", "0",
            "--vm-id", "vm-a",
        ])
        let hostIds = (1...Self.slots).map { "vm-\($0)" }
        for hostId in hostIds { try gsms.useHostKey(in: agent.stateDirectory, hostId: hostId) }
        for hostId in hostIds { try await EndToEndHandoffTests.waitForHost(gsms, hostId, state: "Initializing") }

        let games = (1...Self.slots).map { AgentClient(socketPath: SlotSockets.path(of: $0, beside: agent.socketPath)) }
        for game in games { _ = try await game.ready() }
        for hostId in hostIds { try await EndToEndHandoffTests.waitForHost(gsms, hostId, state: "StandingBy") }

        // The periodic heartbeats of all slots go out together.
        try await proxy.waitUntil("a sync carrying the heartbeats of all \(Self.slots) slots") { exchanges in
            exchanges.contains { exchange in
                exchange.path == "/agent/v1/sync" && exchange.status == 200
                    && (try? JSONDecoder().decode(HostSyncRequest.self, from: Data(exchange.body)))
                        .map { request in
                            Set(request.hosts.compactMap { $0.heartbeat == nil ? nil : $0.sessionHostId })
                                == Set(hostIds)
                        } ?? false
            }
        }

        // Two allocations: each reaches the game of the slot gsmsd chose, and no other.
        var taken: [String: String] = [:]
        for sessionId in ["5a1c2b3d-0000-4000-8000-00000000b001", "5a1c2b3d-0000-4000-8000-00000000b002"] {
            let answer = try await gsms.allocate(["sessionId": sessionId, "sessionCookie": "c-\(sessionId)"])
            #expect(answer.status == 200, "\(answer)\n\(agent.log)")
            let hostId = try #require(answer.json["sessionHostId"] as? String)
            let slot = try #require(hostIds.firstIndex(of: hostId))
            let session = try await games[slot].session(wait: .seconds(30))
            #expect(session.sessionId == sessionId)
            #expect(session.sessionCookie == "c-\(sessionId)")
            #expect(session.state == .active)
            taken[hostId] = sessionId
        }
        #expect(taken.count == 2)
        for (index, hostId) in hostIds.enumerated() where taken[hostId] == nil {
            #expect(try await games[index].session().sessionId == nil)
        }

        // One channel: no per-host registration, heartbeat or poll; never two polls held at once.
        let exchanges = proxy.exchanges
        #expect(
            !exchanges.contains {
                $0.method == "PUT" || $0.path.hasSuffix("/heartbeat") || $0.path.contains("/handoff?")
            })
        #expect(exchanges.contains { $0.path == "/agent/v1/handoffs" })
        let pendingPolls = exchanges.filter { $0.path == "/agent/v1/handoffs" && $0.status == nil }
        #expect(pendingPolls.count <= 1, "\(pendingPolls)")
        try await agent.stop()
        await proxy.stop()
        try await gsms.stop()
    }
}
