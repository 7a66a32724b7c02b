import Foundation
import Testing

/// JSON nested tens of thousands of levels deep, inside the body limit: refused with 400 by both
/// daemons, which keep serving (no stack overflow in the decoder).
@Suite("deeply nested JSON", .serialized)
struct DeepJSONTests {
    static let deepArray = Array(String(repeating: "[", count: 60_000).utf8)
    static let deepObject = Array(
        (String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000)).utf8)

    @Test("gsmsd: both APIs answer 400 and keep serving")
    func gsmsd() async throws {
        let gsms = try await GSMSProcess()
        let auth = try await GSMSProcess.authorization(["1234"])
        for body in [Self.deepArray, Self.deepObject] {
            let title = try await gsms.client.send(
                .POST, "/titles/1234/sessionhosts",
                headers: [auth, ("x-xbl-contract-version", "1"), ("Content-Type", "application/json")],
                body: body)
            #expect(title.status == 400, "\(title)")
            let agent = try await gsms.client.send(
                .PUT, "/agent/v1/hosts/h1", headers: gsms.agentHeaders("h1") + [("Content-Type", "application/json")],
                body: body)
            #expect(agent.status == 400, "\(agent)")
        }
        #expect(try await gsms.register(host: "h1").status == 200)
        try await gsms.stop()
    }

    @Test("sessionhostd: the socket API answers 400 and keeps serving")
    func agent() async throws {
        let agent = try await AgentProcess.started()
        for body in [Self.deepArray, Self.deepObject] {
            let head =
                "POST /v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            let answer = try RawHTTP.exchange(socketPath: agent.socketPath, request: Array(head.utf8) + body)
            #expect(RawHTTP.statusCode(of: answer) == 400, "\(answer.prefix(300))")
        }
        let ready = try RawHTTP.exchange(
            socketPath: agent.socketPath,
            request: Array("POST /v1/ready HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
        #expect(RawHTTP.statusCode(of: ready) == 200, "\(ready)")
        #expect(try await agent.stop() == 0)
    }
}
