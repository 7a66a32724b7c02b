import Foundation
import Logging
import SessionHostAgent
import SessionHostHTTP
import SessionHostModel
import Systemd
import Testing

@Suite("Slots: the main socket serves each caller its own slot, by its systemd unit instance")
struct SlotSocketRouterTests {
    static let policy = PeerPolicy(agentUID: 999, allowedUsers: [], allowedGroups: [4242])

    func slots(_ count: Int) throws -> (TemporaryDirectory, [GameSocketAPI]) {
        let directory = try TemporaryDirectory()
        var apis: [GameSocketAPI] = []
        for number in 1...count {
            var configuration = AgentConfiguration(
                socketPath: directory.file("agent.sock"), stateDirectory: directory.file("state-\(number)"))
            configuration.titleId = "1234ABCD"
            let agent = try HostAgent(
                identity: HostIdentity(configuration: configuration), configuredHostId: "host-\(number)",
                derivedHostId: { "unused" }, healthTimeout: nil,
                store: AgentStateStore(directory: directory.file("state-\(number)")),
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            apis.append(GameSocketAPI(agent: agent, policy: Self.policy, localMode: true))
        }
        return (directory, apis)
    }

    func call(_ router: SlotSocketRouter, _ method: String, _ path: String, pid: Int32, uid: UInt32 = 5000) async
        -> (Int, [String: Any])
    {
        let response = await router.handle(
            AgentRequest(
                method: method, target: path, body: [],
                peer: PeerCredentials(pid: pid, uid: uid, gid: uid, supplementaryGroups: [4242])))
        guard case .json(let status, let bytes, _) = response else { return (response.status, [:]) }
        return (status, (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:])
    }

    @Test("a caller in sessionhost-game@2.service talks to slot 2, and its ready makes only slot 2 StandingBy")
    func byUnitInstance() async throws {
        let (directory, apis) = try slots(3)
        _ = directory
        let units: [Int32: String] = [
            102: "sessionhost-game@2.service", 103: "my-game@3.service", 200: "user@1000.service",
        ]
        let router = SlotSocketRouter(apis: apis, socketPath: "/run/sh/agent.sock", unitOfProcess: { units[$0] })
        var (status, body) = await call(router, "GET", "/v1/host", pid: 102)
        #expect(status == 200)
        #expect(body["sessionHostId"] as? String == "host-2")
        (status, body) = await call(router, "GET", "/v1/host", pid: 103)
        #expect(body["sessionHostId"] as? String == "host-3")
        (status, _) = await call(router, "POST", "/v1/ready", pid: 102)
        #expect(status == 200)
        #expect(await apis[1].agent.state == .standingBy)
        #expect(await apis[0].agent.state == .initializing)
        #expect(await apis[2].agent.state == .initializing)
    }

    @Test(
        "a caller in no template unit, or an instance that is no slot, gets 400 SlotUnknown naming the per-slot sockets"
    )
    func unknownCaller() async throws {
        let (directory, apis) = try slots(2)
        _ = directory
        let units: [Int32: String] = [5: "sshd.service", 6: "sessionhost-game@7.service", 7: "game@abc.service"]
        let router = SlotSocketRouter(apis: apis, socketPath: "/run/sh/agent.sock", unitOfProcess: { units[$0] })
        for pid: Int32 in [4, 5, 6, 7] {
            let (status, body) = await call(router, "GET", "/v1/host", pid: pid)
            #expect(status == 400)
            #expect(body["code"] as? String == "SlotUnknown")
            #expect((body["message"] as? String)?.contains("/run/sh/agent-K.sock") == true)
        }
        for agent in apis.map(\.agent) { #expect(await agent.state == .initializing) }
    }

    @Test("a peer the policy refuses gets 403 before any slot is looked up")
    func policyFirst() async throws {
        let (directory, apis) = try slots(2)
        _ = directory
        let router = SlotSocketRouter(apis: apis, socketPath: "/run/sh/agent.sock", unitOfProcess: { _ in nil })
        let response = await router.handle(
            AgentRequest(
                method: "GET", target: "/v1/host", body: [], peer: PeerCredentials(pid: 9, uid: 6000, gid: 6000)))
        #expect(response.status == 403)
    }

    @Test("unit names: the instance of a template unit")
    func instances() {
        #expect(SystemdUnit.instance(of: "sessionhost-game@3.service") == "3")
        #expect(SystemdUnit.instance(of: "game@12.scope") == "12")
        #expect(SystemdUnit.instance(of: "sshd.service") == nil)
        #expect(SystemdUnit.instance(of: "game@.service") == nil)
        // This test process runs in no template unit instance of a slot, whatever unit it has.
        #expect(SystemdUnit.of(pid: -1) == nil)
    }
}
