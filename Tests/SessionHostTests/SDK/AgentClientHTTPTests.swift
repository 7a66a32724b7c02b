import NIOCore
import NIOHTTP1
import SessionHostHTTP
import SessionHostSDK
import Synchronization
import Testing

@Suite("SessionHostSDK on SessionHostHTTP: the requests it sends, the answer cap, events, connect failures")
struct AgentClientHTTPTests {
    @Test("requests on the wire: Host localhost, Connection: close, JSON bodies with their length")
    func requests() async throws {
        let directory = try TemporaryDirectory()
        let server = try await ScriptedHTTPServer(.unix(path: directory.file("agent.sock"))) { _, writer in
            try await ScriptedHTTPServer.answer(writer, body: Array(#"{"state":"StandingBy"}"#.utf8))
            return true
        }
        let agent = AgentClient(socketPath: directory.file("agent.sock"))
        #expect(try await agent.ready().state == .standingBy)
        #expect(try await agent.heartbeat(HeartbeatRequest(health: .healthy)).state == .standingBy)
        let requests = server.requests
        #expect(requests.map(\.path) == ["/v1/ready", "/v1/heartbeat"])
        #expect(requests.allSatisfy { $0.headers["Host"] == ["localhost"] && $0.headers["Connection"] == ["close"] })
        #expect(requests[0].headers["Content-Length"] == ["0"] && !requests[0].headers.contains(name: "Content-Type"))
        #expect(requests[1].headers["Content-Type"] == ["application/json"])
        #expect(requests[1].headers["Content-Length"] == [String(requests[1].body.count)])
        #expect(server.connectionCount == 2)
        await server.stop()
    }

    @Test("an answer over the cap is refused with a clear error")
    func answerCap() async throws {
        let directory = try TemporaryDirectory()
        let server = try await ScriptedHTTPServer(.unix(path: directory.file("agent.sock"))) { _, writer in
            try await ScriptedHTTPServer.answer(
                writer,
                body: Array(#"{"sessionHostId":""#.utf8) + [UInt8](repeating: 97, count: 2000) + Array(#""}"#.utf8))
            return true
        }
        let agent = AgentClient(socketPath: directory.file("agent.sock"), maximumAnswerBytes: 1000)
        let error = await #expect(throws: AgentClientError.self) { try await agent.host() }
        #expect(error?.code == "InvalidAnswer")
        #expect(error?.status == nil)
        #expect(error?.message == "the agent's answer is over 1000 bytes, more than this client reads")
        #expect(AgentClient.maximumAnswerBytes == 1 << 20)
        await server.stop()
    }

    @Test("events arrive line by line")
    func events() async throws {
        let directory = try TemporaryDirectory()
        let server = try await ScriptedHTTPServer(.unix(path: directory.file("agent.sock"))) { _, writer in
            try await writer.write(.head(HTTPResponseHead(version: .http1_1, status: .ok)))
            for sequence in 1...2 {
                let line = #"{"sequence":\#(sequence),"state":"StandingBy","at":"2026-01-01T00:00:00Z"}"# + "\n"
                try await writer.write(.body(.byteBuffer(ByteBuffer(string: line))))
            }
            try await writer.write(.end(nil))
            return true
        }
        var sequences: [UInt64] = []
        for try await event in AgentClient(socketPath: directory.file("agent.sock")).events() {
            sequences.append(event.sequence)
        }
        #expect(sequences == [1, 2])
        await server.stop()
    }

    @Test("no agent socket: the words say what to do")
    func noSocket() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("nowhere.sock")
        let error = await #expect(throws: AgentClientError.self) { try await AgentClient(socketPath: path).host() }
        #expect(error?.code == "AgentUnreachable")
        #expect(
            error?.message
                == "there is no agent socket at \(path): is sessionhostd running? If it listens elsewhere, give --socket or set SESSIONHOST_SOCKET"
        )
    }
}
