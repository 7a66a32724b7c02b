import Foundation
import SessionHostModel
import Testing

/// The public REST API of SPEC §2, with simulated agents speaking the agent-facing API: its
/// contract against gsmsd built in this process (`GSMSInProcess`), and what only real `gsmsd`
/// processes show (the member order in every process) against the real one.
@Suite("gsmsd public API", .serialized)
struct GSMSPublicAPITests {
    static let guid = "3536d3e6-e85d-4f47-b898-9617d19dabcd"

    @Test("error bodies list their members alphabetically, in every gsmsd process")
    func memberOrder() async throws {
        // The order of an unsorted encoder follows the process's random hash seed, so several
        // processes are asked: each gets it right by chance only half the time.
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let gsms = try await GSMSProcess()
                    let answer = try await gsms.client.send(.GET, "/nowhere")
                    try await gsms.stop()
                    return answer.text
                }
            }
            for try await text in group {
                #expect(text.hasPrefix(#"{"code":"NotFound","message":"#), "\(text)")
            }
        }
    }

    @Test("refusals are logged with their correlation id; a refused agent is a warning, once per host and code")
    func refusalsLogged() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run { gsms in
            let notFound = try await gsms.client.send(
                .GET, "/nowhere", headers: [("X-XblCorrelationId", "corr-404-quote-me")])
            #expect(notFound.status == 404)
            let busy = try await gsms.client.send(
                .POST, "/titles/1234/sessionhosts",
                headers: [try await GSMSProcess.authorization(["1234"]), ("X-XblCorrelationId", "corr-503-quote-me")],
                json: ["sessionId": Self.guid])
            #expect(busy.status == 503)
            // An agent with the wrong fleet secret, three times; another with an unsubscribed title.
            for _ in 0..<3 {
                let refused = try await gsms.client.send(
                    .PUT, "/agent/v1/hosts/vm-wrong",
                    headers: [
                        ("Authorization", "Bearer not-the-fleet-secret-at-all-0123456789"),
                        ("SessionHost-Key", GSMSProcess.hostKey("vm-wrong")),
                    ],
                    json: ["titleId": "1234"])
                #expect(refused.status == 401)
            }
            #expect(try await gsms.register(host: "vm-other", title: "9999").status == 404)
            try await Deadline.waitUntil("the refusals logged") {
                gsms.log.contains("corr-404-quote-me") && gsms.log.contains("corr-503-quote-me")
                    && gsms.log.contains("TitleNotSubscribed")
            }
            let log = gsms.log
            let wrongSecret = log.split(separator: "\n").filter {
                $0.contains("agent refused") && $0.contains("InvalidAgentToken")
            }
            #expect(wrongSecret.count == 1, "once per host and code: \(wrongSecret)")
            #expect(wrongSecret.first?.contains("vm-wrong") == true)
            #expect(
                log.split(separator: "\n").contains {
                    $0.contains("agent refused") && $0.contains("TitleNotSubscribed") && $0.contains("vm-other")
                })
        }
    }

    @Test(
        "401 for a missing, malformed, forged or expired credential; 403 for another title; 404 without subscription; 400 for a bad title id"
    )
    func authorization() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run { gsms in
            let body = try JSONSerialization.data(withJSONObject: ["sessionId": Self.guid])
            func post(_ title: String, _ header: String?) async throws -> HTTPTestClient.Answer {
                try await gsms.client.send(
                    .POST, "/titles/\(title)/sessionhosts", headers: header.map { [("Authorization", $0)] } ?? [],
                    body: [UInt8](body))
            }
            let valid = try await GSMSProcess.token(titles: ["1234"])
            let forged = try await GSMSProcess.token(
                titles: ["1234"], key: Array("another-key-of-at-least-thirty-two-bytes!!".utf8))
            let expired = try await GSMSProcess.token(titles: ["1234"], ttl: 1)
            let cases: [(String?, Int, String)] = [
                (nil, 401, "MissingAuthorization"),
                ("Bearer \(valid)", 401, "MalformedAuthorization"),
                ("XBL3.0 x=hash;", 401, "MalformedAuthorization"),
                ("XBL3.0 x=hash;not.a.jwt", 401, "InvalidToken"),
                ("XBL3.0 x=hash;\(forged)", 401, "InvalidToken"),
            ]
            for (header, status, code) in cases {
                let answer = try await post("1234", header)
                #expect(answer.status == status, "\(header ?? "no header"): \(answer)")
                #expect(answer.json["code"] as? String == code, "\(header ?? "no header"): \(answer)")
                #expect(answer.header("WWW-Authenticate") == "XBL3.0")
            }
            try await expectEventuallyExpired(gsms, token: expired)

            let otherTitle = try await post("5678", "XBL3.0 x=hash;\(valid)")
            #expect(otherTitle.status == 403)
            #expect(otherTitle.json["code"] as? String == "TitleNotAllowed")

            let unsubscribed = try await gsms.allocate(title: "9999", ["sessionId": Self.guid])
            #expect(unsubscribed.status == 404)
            #expect(unsubscribed.json["code"] as? String == "TitleNotSubscribed")

            let badTitle = try await post("bad%20title!", "XBL3.0 x=hash;\(valid)")
            #expect(badTitle.status == 400)
            #expect(badTitle.json["code"] as? String == "InvalidTitleId")
        }
    }

    /// The token lives one second; it is refused as expired once that second is over.
    private func expectEventuallyExpired(_ gsms: GSMSInProcess.Driver, token: String) async throws {
        let body = try JSONSerialization.data(withJSONObject: ["sessionId": Self.guid])
        var last: HTTPTestClient.Answer?
        try await Deadline.waitUntilAsync("the token to expire", timeout: .seconds(15)) {
            let answer = try await gsms.client.send(
                .POST, "/titles/1234/sessionhosts", headers: [("Authorization", "XBL3.0 x=h;\(token)")],
                body: [UInt8](body))
            last = answer
            return answer.status == 401
        }
        #expect(last?.json["code"] as? String == "TokenExpired")
    }

    @Test(
        "400 for malformed JSON, wrong types, a session id that is not a GUID and a cookie over 4096 bytes; 413 over 64 KiB"
    )
    func badRequests() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run { gsms in
            try await gsms.register(host: "host-a")
            let auth = try await GSMSProcess.authorization(["1234"])
            func post(_ bytes: [UInt8]) async throws -> HTTPTestClient.Answer {
                try await gsms.client.send(.POST, "/titles/1234/sessionhosts", headers: [auth], body: bytes)
            }
            let cases: [([UInt8], String)] = [
                (Array("{not json".utf8), "MalformedBody"),
                (Array("".utf8), "MalformedBody"),
                (Array("[]".utf8), "MalformedBody"),
                (Array(#"{"sessionId": 42}"#.utf8), "MalformedBody"),
                (Array(#"{"cookie": "x"}"#.utf8), "MalformedBody"),
                (Array(#"{"sessionId": "not-a-guid"}"#.utf8), "InvalidSessionId"),
                (Array(#"{"sessionId": "\#(Self.guid)", "locations": "West US"}"#.utf8), "MalformedBody"),
                (
                    Array(
                        #"{"sessionId": "\#(Self.guid)", "sessionCookie": "\#(String(repeating: "é", count: 2049))"}"#
                            .utf8), "SessionCookieTooLarge"
                ),
                ([0xFF, 0xFE, 0x7B], "MalformedBody"),
            ]
            for (bytes, code) in cases {
                let answer = try await post(bytes)
                #expect(answer.status == 400, "\(String(decoding: bytes.prefix(60), as: UTF8.self)): \(answer)")
                #expect(answer.json["code"] as? String == code, "\(answer)")
            }
            let huge = try await post(
                Array(#"{"sessionId": "\#(Self.guid)", "pad": "\#(String(repeating: "x", count: 70_000))"}"#.utf8))
            #expect(huge.status == 413)
            #expect(huge.json["code"] as? String == "BodyTooLarge")
            // Nothing above allocated the host.
            let status = try await gsms.hostStatus("host-a")
            #expect(status.json["state"] as? String == "StandingBy")
        }
    }

    @Test(
        "200 only after the agent acknowledges; the body has every member; GET and a repeated POST return the same host"
    )
    func allocationAndIdempotency() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run { gsms in
            #expect(try await gsms.register(host: "host-a").status == 200)
            let agent = gsms.acknowledgeNextHandoff(host: "host-a")
            let cookie = String(repeating: "c", count: 4096)
            let answer = try await gsms.allocate([
                "SessionId": Self.guid.uppercased(), "LOCATIONS": ["West US"], "sessionCookie": cookie,
                "unknownMember": true,
            ])
            #expect(answer.status == 200, "\(answer)")
            let handoff = try #require(try await agent.value)
            #expect(handoff.sessionCookie == cookie)
            #expect(handoff.sessionId == Self.guid)
            let body = answer.json
            #expect(body["hostName"] as? String == "host-a.example.net")
            #expect(body["region"] as? String == "WestUS")
            #expect(body["secureContext"] as? String == "AQDc8Hen/QCDJwWRPcW/1QEEAiABAACdOJU8JNujcXyUPwUBCnue+g==")
            #expect(body["sessionId"] as? String == Self.guid)
            #expect(body["sessionHostId"] as? String == "host-a")
            let mappings = try #require(body["portMappings"] as? [[String: Any]])
            #expect(mappings.first?["Key"] as? String == "game")
            #expect((mappings.first?["Value"] as? [String: Any])?["external"] as? Int == 30000)

            let again = try await gsms.allocate(["sessionId": Self.guid])
            #expect(again.status == 200)
            #expect(again.text == answer.text)
            let lookedUp = try await gsms.client.send(
                .GET, "/titles/1234/sessionhosts/\(Self.guid)", headers: [try await GSMSProcess.authorization(["1234"])]
            )
            #expect(lookedUp.status == 200)
            #expect(lookedUp.text == answer.text)
            let missing = try await gsms.client.send(
                .GET, "/titles/1234/sessionhosts/00000000-0000-0000-0000-000000000001",
                headers: [try await GSMSProcess.authorization(["1234"])])
            #expect(missing.status == 404)
            // Another title never sees it.
            let otherTitle = try await gsms.client.send(
                .GET, "/titles/5678/sessionhosts/\(Self.guid)", headers: [try await GSMSProcess.authorization(["5678"])]
            )
            #expect(otherTitle.status == 404)
            #expect(try await gsms.hostStatus("host-a").json["state"] as? String == "Active")
            // The only host is Active: a new session gets 503.
            #expect(try await gsms.allocate(["sessionId": "11111111-2222-3333-4444-555555555555"]).status == 503)
        }
    }

    @Test("409 while the same session id is being allocated and not Active yet")
    func conflictWhileInFlight() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]) { $0.handoffTimeout = .seconds(30) }.run { gsms in
            try await gsms.register(host: "host-a")
            let first = Task { try await gsms.allocate(["sessionId": Self.guid]) }
            let handoff = try #require(try await gsms.handoff(host: "host-a", wait: 20))
            let second = try await gsms.allocate(["sessionId": Self.guid])
            #expect(second.status == 409)
            #expect(second.json["code"] as? String == "AllocationInProgress")
            // The docs say a 409 is not retried: the message must not say otherwise.
            let message = try #require(second.json["message"] as? String)
            #expect(!message.contains("retry shortly") && message.contains("do not retry"), "\(message)")
            #expect(try await gsms.acknowledge(host: "host-a", sessionId: handoff.sessionId).status == 200)
            let answer = try await first.value
            #expect(answer.status == 200)
            #expect(answer.json["sessionHostId"] as? String == "host-a")
        }
    }

    @Test("a host that does not acknowledge in time is set aside and the next one is allocated")
    func handoffTimeoutMovesOn() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]) { $0.handoffTimeout = .seconds(1) }.run { gsms in
            try await gsms.register(host: "silent")
            try await gsms.register(host: "willing")
            let agent = gsms.acknowledgeNextHandoff(host: "willing", wait: 30)
            let answer = try await gsms.allocate(["sessionId": Self.guid])
            #expect(answer.status == 200, "\(answer)")
            #expect(answer.json["sessionHostId"] as? String == "willing")
            #expect(try await agent.value?.sessionId == Self.guid)
            #expect(try await gsms.hostStatus("silent").json["state"] as? String == "Unhealthy")
            // A late acknowledgement from the silent host is refused.
            let late = try await gsms.acknowledge(host: "silent", sessionId: Self.guid)
            #expect(late.status == 409)
            #expect(late.json["code"] as? String == "HandoffExpired")
        }
    }

    @Test("locations are tried strictly in order, ignoring case and white space; only listed locations are candidates")
    func locationPreference() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run { gsms in
            try await gsms.register(host: "west", region: "WestUS")
            try await gsms.register(host: "east", region: "East US")
            let agent = gsms.acknowledgeNextHandoff(host: "east")
            let answer = try await gsms.allocate([
                "sessionId": Self.guid, "locations": ["north europe", "EASTUS", "West US"],
            ])
            #expect(answer.status == 200)
            #expect(answer.json["sessionHostId"] as? String == "east")
            _ = try await agent.value
            let nowhere = try await gsms.allocate([
                "sessionId": "21111111-2222-3333-4444-555555555555", "locations": ["North Europe"],
            ])
            #expect(nowhere.status == 503)
        }
    }

    @Test("a host that declared a sandbox or game mode serves only requests with the same value")
    func sandboxAndGameModeMatching() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run { gsms in
            try await gsms.register(
                host: "sandboxed", extra: ["sandboxId": "ISST.0", "gameModeId": "2162d32c-7ac8-40e9-9b1f-56676b8b2513"])
            #expect(try await gsms.allocate(["sessionId": Self.guid]).status == 503)
            #expect(try await gsms.allocate(["sessionId": Self.guid, "sandboxId": "ISST.0"]).status == 503)
            let agent = gsms.acknowledgeNextHandoff(host: "sandboxed")
            let answer = try await gsms.allocate([
                "sessionId": Self.guid, "SandboxId": "isst.0", "gameModelId": "2162D32C-7AC8-40E9-9B1F-56676B8B2513",
            ])
            #expect(answer.status == 200, "\(answer)")
            _ = try await agent.value
        }
    }

    @Test("a host whose agent stops heartbeating is Unhealthy and never allocated")
    func silentHostIsNotAllocated() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]) { $0.hostTimeout = .seconds(1) }.run { gsms in
            try await gsms.register(host: "quiet")
            try await Deadline.waitUntilAsync("the host to be marked Unhealthy", timeout: .seconds(20)) {
                try await gsms.hostStatus("quiet").json["state"] as? String == "Unhealthy"
            }
            #expect(try await gsms.allocate(["sessionId": Self.guid]).status == 503)
            // A heartbeat that says StandingBy brings it back.
            let beat = try await gsms.client.send(
                .POST, "/agent/v1/hosts/quiet/heartbeat", headers: GSMSProcess.simulatedAgentHeaders("quiet"),
                json: ["state": "StandingBy", "health": "Healthy"])
            #expect(beat.json["state"] as? String == "StandingBy")
        }
    }
}
