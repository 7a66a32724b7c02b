import Foundation
import SessionHostModel
import SessionHostSDK
import Testing

@Suite("Slots with GSDK game servers: one config file, listener and host per slot")
struct MultiSlotGSDKTests {
    @Test(
        "--slots 2 --gsdk-listen: gsdkConfig-1.json and gsdkConfig-2.json name each slot's host, ports, listener and serverInstanceNumber; a heartbeat drives only its slot"
    )
    func configFilePerSlot() async throws {
        let directory = try TemporaryDirectory()
        let configPath = directory.file("gsdkConfig.json")
        let agent = try AgentProcess(
            directory: directory,
            arguments: [
                "--title-id", "1234ABCD", "--hostname", "203.0.113.7", "--port", "game:udp:7777:30000",
                "--health-timeout", "0", "--slots", "2", "--gsdk-listen", "127.0.0.1:0",
                "--gsdk-config-file", configPath,
            ])
        try await agent.waitForReady()
        var games: [GSDKGameClient] = []
        for number in 1...2 {
            let game = try await GSDKGameClient.reading(directory.file("gsdkConfig-\(number).json"), agent: agent)
            let host = try await AgentClient(socketPath: SlotSockets.path(of: number, beside: agent.socketPath)).host()
            #expect(game.sessionHostId == host.sessionHostId)
            #expect(game.config["serverInstanceNumber"] as? Int == number)
            #expect(game.config["gamePorts"] as? [String: String] == ["game": String(7776 + number)])
            games.append(game)
        }
        #expect(!FileManager.default.fileExists(atPath: configPath))
        #expect(games[0].client.port != games[1].client.port)
        #expect(games[0].sessionHostId != games[1].sessionHostId)

        let answer = try await games[1].cppHeartbeat("StandingBy")
        #expect(answer.status == 200)
        try await Deadline.waitUntilAsync("slot 2 StandingBy", timeout: .seconds(20)) {
            try await AgentClient(socketPath: SlotSockets.path(of: 2, beside: agent.socketPath)).host().state
                == .standingBy
        }
        #expect(
            try await AgentClient(socketPath: SlotSockets.path(of: 1, beside: agent.socketPath)).host().state
                == .initializing)
        // The other slot's listener does not know this host.
        let wrong = try await games[0].client.send(
            .PATCH, "/v1/sessionHosts/\(games[1].sessionHostId)", headers: GSDKGameClient.cppHeaders,
            body: Array(GSDKRequests.cpp("StandingBy", players: []).utf8))
        #expect(wrong.status == 404)
        try await agent.stop()
    }
}
