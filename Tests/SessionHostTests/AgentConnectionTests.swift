import Foundation
import NIOCore
import NIOPosix
import SessionHostSDK
import Testing

/// Many idle or half-open connections on the agent's socket keep no game out.
@Suite("sessionhostd connections", .serialized)
struct AgentConnectionTests {
    /// Connects, waiting while the listen backlog is full (EAGAIN): the test connects faster
    /// than the agent accepts.
    static func connect(_ path: String) async throws -> any Channel {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(
                    unixDomainSocketPath: path
                ).get()
            } catch let error as IOError where error.errnoCode == EAGAIN && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
        }
    }

    @Test(
        "1,000 idle connections and 100 half-sent requests on the socket: the game is still served, and after they go too"
    )
    func manyIdleConnections() async throws {
        let agent = try await AgentProcess.started()
        let game = AgentClient(socketPath: agent.socketPath)
        // Plain channels with no handlers: whatever the agent sends back is dropped.
        var connections: [any Channel] = []
        for index in 0..<1100 {
            let channel = try await Self.connect(agent.socketPath)
            if index >= 1000 {
                try await channel.writeAndFlush(
                    ByteBuffer(string: "POST /v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"he"))
            }
            connections.append(channel)
        }
        #expect(try await game.ready().state == .standingBy)
        #expect(try await game.session().state == .standingBy)
        for channel in connections { try await channel.close() }
        #expect(try await game.session().state == .standingBy)
        #expect(try await agent.stop() == 0)
    }

    @Test("--idle-timeout closes silent, slow and idle connections, never a held request")
    func idleTimeout() async throws {
        let agent = try await AgentProcess.started(arguments: ["--idle-timeout", "1"])
        let game = AgentClient(socketPath: agent.socketPath)
        #expect(try await game.ready().state == .standingBy)

        let silent = try await Self.connect(agent.socketPath)
        let slowHead = try await Self.connect(agent.socketPath)
        try await slowHead.writeAndFlush(ByteBuffer(string: "GET /v1/session HTTP/1.1\r\nHost: x\r\nX-Slow: "))
        let slowBody = try await Self.connect(agent.socketPath)
        try await slowBody.writeAndFlush(
            ByteBuffer(string: "POST /v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"he"))
        let keptAlive = try await Self.connect(agent.socketPath)
        try await keptAlive.writeAndFlush(ByteBuffer(string: "GET /v1/session HTTP/1.1\r\nHost: x\r\n\r\n"))

        // A request held longer than the idle timeout is answered, not cut.
        let held = try await game.session(wait: .seconds(3))
        #expect(held.state == .standingBy)

        // The agent closed the four others (their close futures complete when it does).
        for (name, channel) in [
            ("silent", silent), ("slow head", slowHead), ("slow body", slowBody), ("idle keep-alive", keptAlive),
        ] {
            try await Deadline.within(.seconds(30), "the agent to close the \(name) connection") {
                try await channel.closeFuture.get()
            }
        }
        #expect(try await game.session().state == .standingBy)
        #expect(try await agent.stop() == 0)
    }
}
