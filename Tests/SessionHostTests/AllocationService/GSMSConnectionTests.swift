import Foundation
import NIOCore
import NIOPosix
import Testing

/// How `gsmsd` treats connections that send nothing, send slowly or wait long (`--idle-timeout`).
@Suite("gsmsd connections", .serialized)
struct GSMSConnectionTests {
    typealias RawConnection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func connect(_ gsms: GSMSProcess) async throws -> RawConnection {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: gsms.client.host, port: gsms.client.port) { channel in
                channel.eventLoop.makeCompletedFuture { try RawConnection(wrappingChannelSynchronously: channel) }
            }
    }

    /// Reads until the server closes the connection; returns what it sent.
    static func readUntilClosed(_ connection: RawConnection) async throws -> String {
        try await connection.executeThenClose { inbound, _ in
            var received = ""
            for try await buffer in inbound { received += String(buffer: buffer) }
            return received
        }
    }

    @Test("a request head that never completes is cut off after --idle-timeout, and others are served meanwhile")
    func slowRequestHead() async throws {
        let gsms = try await GSMSProcess(arguments: ["--idle-timeout", "1"])
        let slow = try await Self.connect(gsms)
        do {
            try await slow.channel.writeAndFlush(
                ByteBuffer(string: "GET /agent/v1/hosts/h1 HTTP/1.1\r\nHost: gsmsd\r\nX-Slow: "))
        } catch ChannelError.ioOnClosedChannel {
            // On a loaded machine the idle timeout may run out before the test writes: cut off already.
        }
        #expect(try await Self.registerWithinIdleTimeout(gsms, host: "h1").status == 200)
        let received = try await Deadline.within(.seconds(30), "gsmsd closing a half-sent request") {
            try await Self.readUntilClosed(slow)
        }
        #expect(!received.contains("200 OK"), "\(received)")
        try await gsms.stop()
    }

    /// Registers `host` on a fresh connection. With `--idle-timeout 1` a loaded machine can leave
    /// that connection unused for a second before the request is written, and gsmsd rightly
    /// closes it: that attempt is made again (at most three).
    static func registerWithinIdleTimeout(_ gsms: GSMSProcess, host: String) async throws -> HTTPTestClient.Answer {
        var attempt = 1
        while true {
            do {
                return try await gsms.register(host: host)
            } catch  where attempt < 3 && "\(error)".contains("closed the connection before answering") {
                attempt += 1
            }
        }
    }

    @Test("a held hand-off poll outlives --idle-timeout: the connection is busy, not idle")
    func heldPollIsNotIdle() async throws {
        // An idle timeout long enough for a loaded machine to send the request after connecting
        // (an idle connection is cut, rightly), and a poll held three times as long.
        let gsms = try await GSMSProcess(arguments: ["--idle-timeout", "1"])
        #expect(try await gsms.register(host: "h1").status == 200)
        let started = ContinuousClock.now
        let answer = try await gsms.client.send(
            .GET, "/agent/v1/hosts/h1/handoff?wait=3", headers: GSMSProcess.simulatedAgentHeaders("h1"))
        // Answered (an empty poll) at the end of its wait, well after the idle timeout.
        #expect(answer.status == 200, "\(answer)")
        #expect(answer.json.isEmpty, "\(answer)")
        #expect(ContinuousClock.now - started >= .seconds(2.9))
        try await gsms.stop()
    }

    @Test("1,000 idle connections neither keep other clients out nor stay open past --idle-timeout")
    func manyIdleConnections() async throws {
        let gsms = try await GSMSProcess(arguments: ["--idle-timeout", "1"])
        var idle: [RawConnection] = []
        for _ in 0..<1000 { idle.append(try await Self.connect(gsms)) }
        #expect(try await gsms.register(host: "h1").status == 200)
        #expect(try await gsms.hostStatus("h1").status == 200)
        // Every one of them is closed by gsmsd, none by us.
        let connections = idle
        let closed = try await Deadline.within(.seconds(60), "gsmsd closing 1,000 idle connections") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for connection in connections {
                    group.addTask { _ = try await Self.readUntilClosed(connection) }
                }
                try await group.waitForAll()
                return connections.count
            }
        }
        #expect(closed == 1000)
        #expect(try await gsms.hostStatus("h1").status == 200)
        try await gsms.stop()
    }
}
