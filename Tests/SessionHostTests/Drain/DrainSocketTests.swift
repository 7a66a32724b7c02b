import Foundation
import Logging
@testable import SessionHostAgent
import SessionHostHTTP
import SessionHostModel
import Testing

/// `POST /v1/drain` on the agent socket, in process: the drain reaches `GET /v1/host` and the
/// events, is kept in `drain.json`, keeps the earliest deadline, and closes local hand-offs.
@Suite("Drain: POST /v1/drain on the agent socket")
struct DrainSocketTests {
    static let root = PeerCredentials(pid: 1, uid: 0, gid: 0)
    static let game = PeerCredentials(pid: 2, uid: 5000, gid: 5000, supplementaryGroups: [4242])
    static let policy = PeerPolicy(agentUID: 999, allowedUsers: [], allowedGroups: [4242])
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func coordinator(_ agents: [HostAgent], directory: String) -> DrainCoordinator {
        DrainCoordinator(agents: agents, store: DrainStore(directory: directory), record: nil, logger: logger)
    }

    static func call(
        _ handle: (AgentRequest) async -> AgentResponse, _ method: String, _ target: String,
        body: String = "", peer: PeerCredentials = root
    ) async -> (Int, [String: Any]) {
        let response = await handle(AgentRequest(method: method, target: target, body: Array(body.utf8), peer: peer))
        guard case .json(let status, let bytes, _) = response else { return (response.status, [:]) }
        return (status, (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:])
    }

    @Test(
        "a drain answers the host with it, shows in GET /v1/host and in an event, is saved, and refuses local hand-offs with 409"
    )
    func localDrain() async throws {
        let fixture = try AgentFixture()
        let drains = Self.coordinator([fixture.agent], directory: fixture.store.directory)
        let api = GameSocketAPI(agent: fixture.agent, policy: Self.policy, localMode: true, drains: drains)
        _ = try await fixture.agent.ready()
        let events = await fixture.agent.events()

        let before = Date()
        var (status, body) = await Self.call(
            api.handle, "POST", "/v1/drain", body: #"{"deadlineSeconds": 600, "reason": "kernel upgrade"}"#)
        #expect(status == 200, "\(body)")
        let drain = try #require(body["drain"] as? [String: Any])
        #expect(drain["source"] as? String == "local")
        #expect(drain["reason"] as? String == "kernel upgrade")
        let deadline = try #require(DrainNotice.parse(drain["deadline"] as? String ?? ""))
        #expect(abs(deadline.timeIntervalSince(before) - 600) < 30)
        #expect(body["state"] as? String == "StandingBy", "a StandingBy slot stays StandingBy")

        (status, body) = await Self.call(api.handle, "GET", "/v1/host", peer: Self.game)
        #expect((body["drain"] as? [String: Any])?["reason"] as? String == "kernel upgrade")

        let announced = try await first(events) { $0.drain != nil }
        #expect(announced.reason?.hasPrefix("drain requested") == true, "\(announced)")
        #expect(announced.state == .standingBy)

        // Saved before it was answered.
        let (saved, _) = try DrainStore(directory: fixture.store.directory).load()
        #expect(saved?.notice.reason == "kernel upgrade")

        // Local hand-offs are refused while draining.
        (status, body) = await Self.call(
            api.handle, "POST", "/v1/local/allocate", body: #"{"sessionId":"\#(AgentFixture.sessionId)"}"#)
        #expect(status == 409)
        #expect(body["code"] as? String == "Draining")
        #expect(fixture.agent.sessionInfo().sessionId == nil)

        // Later events keep carrying the drain.
        _ = try await fixture.agent.heartbeat(HeartbeatRequest(health: .unhealthy))
        let later = try await first(events) { $0.state == .unhealthy }
        #expect(later.drain?.reason == "kernel upgrade")
    }

    @Test("only root or the agent's own user may drain (403); bad bodies are 400; an agent without drains answers 404")
    func refusals() async throws {
        let fixture = try AgentFixture()
        let drains = Self.coordinator([fixture.agent], directory: fixture.store.directory)
        let api = GameSocketAPI(agent: fixture.agent, policy: Self.policy, localMode: true, drains: drains)
        var (status, body) = await Self.call(api.handle, "POST", "/v1/drain", peer: Self.game)
        #expect(status == 403)
        #expect(body["code"] as? String == "PeerNotAllowed")
        (status, body) = await Self.call(api.handle, "POST", "/v1/drain", body: #"{"deadlineSeconds": 0}"#)
        #expect(status == 400)
        #expect(body["code"] as? String == "InvalidDrain")
        (status, body) = await Self.call(api.handle, "POST", "/v1/drain", body: #"{"deadlineSeconds": 604801}"#)
        #expect(status == 400)
        (status, body) = await Self.call(api.handle, "POST", "/v1/drain", body: "[1]")
        #expect(status == 400)
        (status, body) = await Self.call(api.handle, "GET", "/v1/drain")
        #expect(status == 405)
        #expect(fixture.agent.drain == nil, "a refused drain changes nothing")
        let withoutDrains = GameSocketAPI(agent: fixture.agent, policy: Self.policy, localMode: true)
        (status, body) = await Self.call(withoutDrains.handle, "POST", "/v1/drain")
        #expect(status == 404)
    }

    @Test("the default deadline is an hour; an earlier deadline replaces a later one, a later one changes nothing")
    func earliestDeadlineWins() async throws {
        let fixture = try AgentFixture()
        let drains = Self.coordinator([fixture.agent], directory: fixture.store.directory)
        let api = GameSocketAPI(agent: fixture.agent, policy: Self.policy, localMode: true, drains: drains)
        let start = Date()
        var (status, body) = await Self.call(api.handle, "POST", "/v1/drain")
        #expect(status == 200)
        let hour = try #require(DrainNotice.parse((body["drain"] as? [String: Any])?["deadline"] as? String ?? ""))
        #expect(abs(hour.timeIntervalSince(start) - 3600) < 30)

        (status, body) = await Self.call(api.handle, "POST", "/v1/drain", body: #"{"deadlineSeconds": 7200}"#)
        #expect(status == 200)
        #expect(fixture.agent.drain?.deadlineDate == hour, "a later deadline changes nothing")

        await drains.adoptFromControlPlane(
            DrainNotice(
                deadline: DrainNotice.timestamp(start.addingTimeInterval(60)), source: .operator, reason: "from gsmsd"))
        #expect(fixture.agent.drain?.source == .operator)
        #expect(fixture.agent.drain?.reason == "from gsmsd")
        let (saved, _) = try DrainStore(directory: fixture.store.directory).load()
        #expect(saved?.notice.source == .operator)
    }

    @Test("on the main socket of an agent with slots, a drain needs no slot; other calls still do")
    func mainSocketNeedsNoSlot() async throws {
        let directory = try TemporaryDirectory()
        var agents: [HostAgent] = []
        for slot in 1...2 {
            agents.append(try AgentFixture(directory: try TemporaryDirectory(), hostId: "vm-\(slot)").agent)
        }
        let drains = Self.coordinator(agents, directory: directory.path)
        let router = SlotSocketRouter(
            apis: agents.map { GameSocketAPI(agent: $0, policy: Self.policy, localMode: true, drains: drains) },
            socketPath: directory.file("agent.sock"), unitOfProcess: { _ in nil })
        var (status, body) = await Self.call(router.handle, "GET", "/v1/host")
        #expect(status == 400)
        #expect(body["code"] as? String == "SlotUnknown")
        (status, body) = await Self.call(router.handle, "POST", "/v1/drain", body: #"{"deadlineSeconds": 60}"#)
        #expect(status == 200, "\(body)")
        #expect(agents.allSatisfy { $0.drain != nil }, "every slot drains")
    }
}
