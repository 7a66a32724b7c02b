import Foundation
import NIOHTTP1
import SessionHostModel
import Testing

/// The agent-facing API of `gsmsd` (docs/control-plane-api.md), from the service's side, against
/// gsmsd built in this process (`GSMSInProcess`).
@Suite("gsmsd agent API", .serialized)
struct GSMSControlPlaneAPITests {
    @Test("agents must present the fleet secret")
    func fleetSecretRequired() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run { gsms in
            let body: [String: Any] = ["state": "StandingBy", "health": "Healthy"]
            for header in [nil, ("Authorization", "Bearer wrong-secret"), ("Authorization", "Basic abc")]
                as [(String, String)?]
            {
                let answer = try await gsms.client.send(
                    .POST, "/agent/v1/hosts/h1/heartbeat", headers: header.map { [$0] } ?? [], json: body)
                #expect(answer.status == 401, "\(String(describing: header)): \(answer)")
                #expect(answer.header("WWW-Authenticate") == "Bearer")
            }
        }
    }

    @Test("an agent acts only for its own host: the first key presented binds the host id until it deregisters")
    func hostKeys() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run { gsms in
            try await gsms.register(host: "h1")
            try await gsms.register(host: "h2")
            // The agent of h2 knows the fleet secret but not h1's key: every call for h1 is refused.
            let stranger = [GSMSProcess.fleetHeader, ("SessionHost-Key", GSMSProcess.hostKey("h2"))]
            let registration: [String: Any] = [
                "titleId": "1234", "region": "WestUS", "hostName": "evil.example.net", "portMappings": [] as [Any],
                "secureContext": "", "state": "StandingBy", "health": "Healthy",
            ]
            let attempts: [(HTTPMethod, String, [String: Any]?)] = [
                (.PUT, "/agent/v1/hosts/h1", registration),
                (.GET, "/agent/v1/hosts/h1", nil),
                (.POST, "/agent/v1/hosts/h1/heartbeat", ["state": "StandingBy", "health": "Healthy"]),
                (.GET, "/agent/v1/hosts/h1/handoff?wait=0", nil),
                (.POST, "/agent/v1/hosts/h1/ack", ["sessionId": "3536d3e6-e85d-4f47-b898-9617d19dabcd"]),
                (.POST, "/agent/v1/hosts/h1/end", ["sessionId": "3536d3e6-e85d-4f47-b898-9617d19dabcd"]),
                (.DELETE, "/agent/v1/hosts/h1", nil),
            ]
            for (method, path, body) in attempts {
                let answer =
                    if let body { try await gsms.client.send(method, path, headers: stranger, json: body) } else {
                        try await gsms.client.send(method, path, headers: stranger)
                    }
                #expect(answer.status == 403, "\(method) \(path): \(answer)")
                #expect(answer.json["code"] as? String == "HostKeyMismatch")
            }
            // Without a key, or with a malformed one: 401.
            let missing = try await gsms.client.send(.GET, "/agent/v1/hosts/h1", headers: [GSMSProcess.fleetHeader])
            #expect(missing.status == 401)
            #expect(missing.json["code"] as? String == "MissingHostKey")
            let malformed = try await gsms.client.send(
                .GET, "/agent/v1/hosts/h1", headers: [GSMSProcess.fleetHeader, ("SessionHost-Key", "short")])
            #expect(malformed.status == 401)
            #expect(malformed.json["code"] as? String == "MalformedHostKey")

            // h1 is untouched, and its own agent still acts for it.
            let own = try await gsms.hostStatus("h1")
            #expect(own.status == 200)
            #expect(own.json["state"] as? String == "StandingBy")

            // After h1 deregisters (with its own key), the id is free for another key.
            let gone = try await gsms.client.send(
                .DELETE, "/agent/v1/hosts/h1", headers: GSMSProcess.simulatedAgentHeaders("h1"))
            #expect(gone.status == 200)
            let taken = try await gsms.client.send(.PUT, "/agent/v1/hosts/h1", headers: stranger, json: registration)
            #expect(taken.status == 200, "\(taken)")
            #expect(try await gsms.hostStatus("h1").status == 403)
        }
    }

    @Test("registration is validated; unknown hosts get 404; titles without subscription get 404")
    func registrationChecks() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run { gsms in
            let badPort = try await gsms.register(
                host: "h1", extra: ["portMappings": [["Key": "game", "Value": ["internal": 0, "external": 70000]]]])
            #expect(badPort.status == 400)
            let badState = try await gsms.register(host: "h1", state: "Active")
            #expect(badState.status == 400)
            let missing = try await gsms.client.send(
                .PUT, "/agent/v1/hosts/h1", headers: GSMSProcess.simulatedAgentHeaders("h1"), json: ["titleId": "1234"])
            #expect(missing.status == 400)
            #expect(try await gsms.register(host: "h1", title: "9999").status == 404)
            let unknown = try await gsms.client.send(
                .POST, "/agent/v1/hosts/ghost/heartbeat", headers: GSMSProcess.simulatedAgentHeaders("ghost"),
                json: ["state": "StandingBy", "health": "Healthy"])
            #expect(unknown.status == 404)
            #expect(unknown.json["code"] as? String == "UnknownHost")
            #expect(try await gsms.hostStatus("ghost").status == 404)
            let ok = try await gsms.register(host: "h1", state: "Initializing")
            #expect(ok.status == 200)
            #expect(ok.json["state"] as? String == "Initializing")
            #expect((ok.json["heartbeatIntervalMilliseconds"] as? Int ?? 0) > 0)
            #expect(try await gsms.handoff(host: "h1", wait: 0) == nil)
        }
    }

    @Test("ending a session releases the host; ends and deregistrations that do not fit the state get 409")
    func sessionEndAndDeregistration() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run { gsms in
            try await gsms.register(host: "h1")
            let sessionId = "3536d3e6-e85d-4f47-b898-9617d19dabcd"
            let agent = gsms.acknowledgeNextHandoff(host: "h1")
            #expect(try await gsms.allocate(["sessionId": sessionId]).status == 200)
            _ = try await agent.value
            let deregisterBusy = try await gsms.client.send(
                .DELETE, "/agent/v1/hosts/h1", headers: GSMSProcess.simulatedAgentHeaders("h1"))
            #expect(deregisterBusy.status == 409)
            let wrongEnd = try await gsms.client.send(
                .POST, "/agent/v1/hosts/h1/end", headers: GSMSProcess.simulatedAgentHeaders("h1"),
                json: ["sessionId": "00000000-0000-0000-0000-000000000000"])
            #expect(wrongEnd.status == 409)
            let end = try await gsms.client.send(
                .POST, "/agent/v1/hosts/h1/end", headers: GSMSProcess.simulatedAgentHeaders("h1"),
                json: ["sessionId": sessionId])
            #expect(end.status == 200)
            #expect(end.json["state"] as? String == "Terminating")
            let lookUp = try await gsms.client.send(
                .GET, "/titles/1234/sessionhosts/\(sessionId)", headers: [try await GSMSProcess.authorization(["1234"])]
            )
            #expect(lookUp.status == 404)
            // Terminating is not allocatable until the agent reports StandingBy again.
            #expect(try await gsms.allocate(["sessionId": "4536d3e6-e85d-4f47-b898-9617d19dabcd"]).status == 503)
            let ready = try await gsms.client.send(
                .POST, "/agent/v1/hosts/h1/heartbeat", headers: GSMSProcess.simulatedAgentHeaders("h1"),
                json: ["state": "StandingBy", "health": "Healthy"])
            #expect(ready.json["state"] as? String == "StandingBy")
            let deregister = try await gsms.client.send(
                .DELETE, "/agent/v1/hosts/h1", headers: GSMSProcess.simulatedAgentHeaders("h1"))
            #expect(deregister.status == 200)
            #expect(deregister.json["deregistered"] as? Bool == true)
            #expect(try await gsms.hostStatus("h1").status == 404)
        }
    }

    @Test("a game reported unhealthy takes the host out of the pool")
    func unhealthyGameIsNotAllocated() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run { gsms in
            try await gsms.register(host: "h1")
            let beat = try await gsms.client.send(
                .POST, "/agent/v1/hosts/h1/heartbeat", headers: GSMSProcess.simulatedAgentHeaders("h1"),
                json: ["state": "StandingBy", "health": "Unhealthy"])
            #expect(beat.json["state"] as? String == "Unhealthy")
            #expect(try await gsms.allocate(["sessionId": "3536d3e6-e85d-4f47-b898-9617d19dabcd"]).status == 503)
        }
    }
}
