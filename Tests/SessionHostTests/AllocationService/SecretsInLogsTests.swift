import Foundation
import SessionHostSDK
import Testing

/// Tokens, cookies and secure contexts never reach the logs at the default level.
@Suite("secrets stay out of the logs", .serialized)
struct SecretsInLogsTests {
    @Test(
        "a whole hand-off at the default log level: no title token, fleet secret, host key, cookie or secureContext in either log"
    )
    func noSecretsInLogs() async throws {
        let gsms = try await GSMSProcess()
        let secureContext = Data("secure-context-7f3a9c".utf8).base64EncodedString()
        let agent = try await EndToEndHandoffTests.agent(
            gsms, hostId: "vm-1", extra: ["--secure-context", secureContext])
        let game = AgentClient(socketPath: agent.socketPath)
        _ = try await game.ready()
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy")

        let cookie = "cookie-secret-5b81e2"
        let waiting = Task { try await game.session(wait: .seconds(60)) }
        let token = try await GSMSProcess.token(titles: ["1234"])
        let answer = try await gsms.client.send(
            .POST, "/titles/1234/sessionhosts", headers: [("Authorization", "XBL3.0 x=-;" + token)],
            json: ["sessionId": EndToEndHandoffTests.sessionId, "sessionCookie": cookie])
        #expect(answer.status == 200, "\(answer)")
        #expect(answer.json["secureContext"] as? String == secureContext)
        #expect(try await waiting.value.sessionCookie == cookie)
        // A refused token is logged about too: it must not be echoed either.
        let forged = "XBL3.0 x=-;eyJhbGciOiJIUzI1NiJ9.eyJ0aXRsZXMiOlsiMTIzNCJdfQ.forged-signature-9d2c"
        let refused = try await gsms.client.send(
            .GET, "/titles/1234/sessionhosts/\(EndToEndHandoffTests.sessionId)", headers: [("Authorization", forged)])
        #expect(refused.status == 401)
        _ = try await game.endSession()
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "Terminating")

        let hostKey = try String(contentsOfFile: agent.stateDirectory + "/host-key", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try await agent.stop()
        try await gsms.stop()
        for (name, log) in [("gsmsd", gsms.log), ("sessionhostd", agent.log)] {
            #expect(!log.isEmpty, "\(name) logged nothing, so the check would prove nothing")
            for (what, secret) in [
                ("the cookie", cookie), ("the secureContext", secureContext),
                ("the secureContext, decoded", "secure-context-7f3a9c"),
                ("the fleet secret", GSMSProcess.fleetSecret), ("the title token", token),
                ("the title token's signature", String(token.split(separator: ".").last ?? "")),
                ("a forged token", "forged-signature-9d2c"), ("the host key", hostKey),
            ] {
                #expect(!log.contains(secret), "\(name) logged \(what)")
            }
        }
    }
}
