import Foundation
import SessionHostAgent
import SessionHostHTTP
import SessionHostModel
import Testing

@Suite("Agent socket API routing, without a socket")
struct GameSocketAPITests {
    static let root = PeerCredentials(pid: 1, uid: 0, gid: 0)
    static let game = PeerCredentials(pid: 2, uid: 5000, gid: 5000, supplementaryGroups: [4242])
    static let stranger = PeerCredentials(pid: 3, uid: 6000, gid: 6000)

    func api(_ fixture: AgentFixture, localMode: Bool = true) -> GameSocketAPI {
        GameSocketAPI(
            agent: fixture.agent,
            policy: PeerPolicy(agentUID: 999, allowedUsers: [], allowedGroups: [4242]),
            localMode: localMode)
    }

    func call(_ api: GameSocketAPI, _ method: String, _ target: String, body: String = "", peer: PeerCredentials = root)
        async -> (Int, [String: Any])
    {
        let response = await api.handle(
            AgentRequest(method: method, target: target, body: Array(body.utf8), peer: peer))
        guard case .json(let status, let bytes, _) = response else { return (response.status, [:]) }
        let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
        return (status, object)
    }

    @Test("the full local flow: ready, allocate, read, heartbeat, end")
    func flow() async throws {
        let fixture = try AgentFixture()
        let api = api(fixture)
        var (status, body) = await call(api, "GET", "/v1/host", peer: Self.game)
        #expect(status == 200)
        #expect(body["titleId"] as? String == "1234ABCD")
        #expect(body["state"] as? String == "Initializing")
        let ports = body["portMappings"] as? [[String: Any]]
        #expect(ports?.first?["Key"] as? String == "game")
        (status, body) = await call(api, "POST", "/v1/ready", peer: Self.game)
        #expect(status == 200)
        #expect(body["state"] as? String == "StandingBy")
        (status, body) = await call(
            api, "POST", "/v1/local/allocate", body: #"{"sessionId":"\#(AgentFixture.sessionId)","sessionCookie":"hi"}"#
        )
        #expect(status == 200)
        (status, body) = await call(api, "GET", "/v1/session?wait=5", peer: Self.game)
        #expect(body["sessionCookie"] as? String == "hi")
        #expect(body["allocatedAt"] as? String != nil)
        (status, body) = await call(
            api, "POST", "/v1/heartbeat", body: #"{"players":[{"playerId":"p1"}]}"#, peer: Self.game)
        #expect(status == 200)
        #expect((body["players"] as? [[String: String]])?.first?["playerId"] == "p1")
        (status, body) = await call(api, "POST", "/v1/session/end", peer: Self.game)
        #expect(status == 200)
        #expect(body["state"] as? String == "Terminating")
        (status, body) = await call(api, "POST", "/v1/session/end", peer: Self.game)
        #expect(status == 409)
        #expect(body["code"] as? String == "WrongState")
    }

    @Test("GET /v1/host, answered from a cache, follows every change of state at once")
    func hostAnswerFollowsState() async throws {
        let fixture = try AgentFixture()
        let api = api(fixture)
        func host() async -> [String: Any] { await call(api, "GET", "/v1/host", peer: Self.game).1 }
        #expect(await host()["state"] as? String == "Initializing")
        #expect(await host()["state"] as? String == "Initializing")
        _ = try await fixture.agent.ready()
        #expect(await host()["state"] as? String == "StandingBy")
        _ = try await fixture.agent.allocate(AllocationRequest(sessionId: AgentFixture.sessionId, sessionCookie: nil))
        let active = await host()
        #expect(active["state"] as? String == "Active")
        #expect(active["sessionHostId"] as? String == fixture.agent.sessionHostId)
        _ = try await fixture.agent.endSession()
        #expect(await host()["state"] as? String == "Terminating")
    }

    @Test("unknown paths are 404, wrong methods 405 with Allow")
    func routing() async throws {
        let fixture = try AgentFixture()
        let api = api(fixture)
        #expect(await call(api, "GET", "/v2/host").0 == 404)
        let response = await api.handle(AgentRequest(method: "DELETE", target: "/v1/ready", peer: Self.root))
        guard case .json(let status, _, let headers) = response else {
            Issue.record("expected JSON")
            return
        }
        #expect(status == 405)
        #expect(headers.contains { $0.0 == "Allow" && $0.1 == "POST" })
    }

    @Test("peers outside the allowed users and groups get 403; local hand-offs need root or the agent's user")
    func peers() async throws {
        let fixture = try AgentFixture()
        let api = api(fixture)
        var (status, body) = await call(api, "GET", "/v1/host", peer: Self.stranger)
        #expect(status == 403)
        #expect(body["code"] as? String == "PeerNotAllowed")
        _ = await call(api, "POST", "/v1/ready", peer: Self.game)
        (status, _) = await call(
            api, "POST", "/v1/local/allocate", body: #"{"sessionId":"\#(AgentFixture.sessionId)"}"#, peer: Self.game)
        #expect(status == 403)
        let agentUser = PeerCredentials(pid: 4, uid: 999, gid: 999)
        (status, body) = await call(
            api, "POST", "/v1/local/allocate", body: #"{"sessionId":"\#(AgentFixture.sessionId)"}"#, peer: agentUser)
        #expect(status == 200)
        #expect(body["state"] as? String == "Active")
    }

    @Test("local hand-offs: 409 unless StandingBy or in local mode, 400 for bad ids and cookies")
    func localAllocationRules() async throws {
        let fixture = try AgentFixture()
        let api = api(fixture)
        let allocation = #"{"sessionId":"\#(AgentFixture.sessionId)"}"#
        #expect(await call(api, "POST", "/v1/local/allocate", body: allocation).0 == 409, "not StandingBy yet")
        _ = await call(api, "POST", "/v1/ready")
        var (status, body) = await call(api, "POST", "/v1/local/allocate", body: #"{"sessionId":"abc"}"#)
        #expect(status == 400)
        #expect(body["code"] as? String == "InvalidSessionId")
        let cookie = String(repeating: "x", count: 4097)
        (status, body) = await call(
            api, "POST", "/v1/local/allocate",
            body: #"{"sessionId":"\#(AgentFixture.sessionId)","sessionCookie":"\#(cookie)"}"#)
        #expect(status == 400)
        #expect(body["code"] as? String == "SessionCookieTooLarge")
        (status, _) = await call(api, "POST", "/v1/local/allocate", body: "")
        #expect(status == 400)
        (status, _) = await call(api, "POST", "/v1/local/allocate", body: "[1,2]")
        #expect(status == 400)
        #expect(await fixture.agent.state == .standingBy, "no refused request changed the state")
        let remote = self.api(fixture, localMode: false)
        #expect(await call(remote, "POST", "/v1/local/allocate", body: allocation).0 == 409)
    }

    @Test("malformed bodies and query values are 400 and change nothing")
    func malformed() async throws {
        let fixture = try AgentFixture()
        let api = api(fixture)
        _ = await call(api, "POST", "/v1/ready")
        for body in [
            "{", #"{"health":"Sick"}"#, #"{"players":5}"#, "\u{FF}\u{FE}", String(repeating: "[", count: 10_000),
        ] {
            let (status, answer) = await call(api, "POST", "/v1/heartbeat", body: body)
            #expect(status == 400, "\(body.prefix(20))")
            #expect(answer["message"] as? String != nil)
        }
        for wait in ["-1", "abc", "nan", "3601", "1e400"] {
            #expect(await call(api, "GET", "/v1/session?wait=\(wait)").0 == 400, "wait=\(wait)")
        }
        #expect(await fixture.agent.state == .standingBy)
    }

    @Test("when the agent stops, a held long poll answers at once with the current state and event streams end")
    func stoppingAnswersWaiters() async throws {
        let fixture = try AgentFixture()
        let api = api(fixture)
        _ = await call(api, "POST", "/v1/ready")
        guard
            case .stream(_, let lines) = await api.handle(
                AgentRequest(method: "GET", target: "/v1/events", body: [], peer: Self.root))
        else {
            Issue.record("GET /v1/events is not a stream")
            return
        }
        var events = lines.makeAsyncIterator()
        #expect(await events.next() != nil, "the current state comes first")
        let started = ContinuousClock.now
        let waiter = Task {
            await api.handle(AgentRequest(method: "GET", target: "/v1/session?wait=3600", body: [], peer: Self.root))
        }
        api.stopping.fire()
        guard case .json(let status, let bytes, _) = await waiter.value else {
            Issue.record("GET /v1/session is not JSON")
            return
        }
        let body = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
        #expect(status == 200)
        #expect(body["state"] as? String == "StandingBy")
        #expect(body["sessionId"] == nil)
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(await events.next() == nil, "the events stream ends")
        // Later long polls do not wait at all.
        #expect(await call(api, "GET", "/v1/session?wait=3600").0 == 200)
    }
}
