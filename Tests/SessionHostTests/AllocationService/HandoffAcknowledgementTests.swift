import Foundation
import SessionHostModel
import SessionHostSDK
import Synchronization
import Testing

/// The agent acknowledges each hand-off exactly once: not again when a heartbeat races the
/// acknowledgement, and once more after a SIGKILL between saving the hand-off and its
/// acknowledgement's answer. The game sees a session only once gsmsd has confirmed it, and an
/// acknowledgement gsmsd never receives is given up at the hand-off's deadline. A proxy between
/// the real agent and the real gsmsd holds the acknowledgements, which puts each test at its
/// exact point without timing.
@Suite("hand-off acknowledgements", .serialized)
struct HandoffAcknowledgementTests {
    static let sessionId = "3536d3e6-e85d-4f47-b898-9617d19dabcd"

    static func isAcknowledgement(_ exchange: HTTPRecordingProxy.Exchange) -> Bool {
        exchange.method == "POST" && exchange.path.hasSuffix("/ack")
    }

    /// A heartbeat: the agent's sync carrying one (or a simulated agent's per-host call).
    static func isHeartbeat(_ exchange: HTTPRecordingProxy.Exchange) -> Bool {
        exchange.method == "POST"
            && (exchange.path.hasSuffix("/heartbeat")
                || (exchange.path == "/agent/v1/sync" && exchange.text.contains("\"heartbeat\"")))
    }

    /// gsmsd with a hand-off timeout long enough for a held acknowledgement, a proxy in front of
    /// it that holds acknowledgements, and a real agent whose game is ready and StandingBy.
    static func setUp(handoffTimeout: Int = 120) async throws -> (
        GSMSProcess, HTTPRecordingProxy, AgentProcess, AgentClient
    ) {
        let gsms = try await GSMSProcess(arguments: ["--handoff-timeout", "\(handoffTimeout)"])
        let proxy = try await HTTPRecordingProxy(
            listen: .tcp(host: "127.0.0.1", port: 0), upstream: .tcp(host: "127.0.0.1", port: gsms.client.port))
        proxy.hold(isAcknowledgement)
        let secretFile = gsms.directory.file("fleet.token")
        try Data((GSMSProcess.fleetSecret + "\n").utf8).write(to: URL(fileURLWithPath: secretFile))
        let agent = try await AgentProcess.started(arguments: [
            "--control-plane", proxy.url, "--agent-token-file", secretFile, "--title-id", "1234", "--host-id", "vm-1",
            "--region", "WestUS", "--hostname", "vm-1.example.net", "--port", "game:udp:7777:30000", "--health-timeout",
            "0",
        ])
        try gsms.useHostKey(in: agent.stateDirectory, hostId: "vm-1")
        let game = AgentClient(socketPath: agent.socketPath)
        _ = try await game.ready()
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy")
        return (gsms, proxy, agent, game)
    }

    @Test("a heartbeat that races the acknowledgement of a hand-off does not acknowledge it a second time")
    func heartbeatRacingTheAcknowledgement() async throws {
        let (gsms, proxy, agent, game) = try await Self.setUp()
        let title = Task { try await gsms.allocate(["sessionId": Self.sessionId, "sessionCookie": "map=dust2"]) }

        // The acknowledgement is held, so gsmsd keeps answering heartbeats with Allocating and
        // this session: the case in which the agent used to acknowledge from the heartbeat too.
        let secondAck: @Sendable ([HTTPRecordingProxy.Exchange]) -> Bool = {
            $0.filter(Self.isAcknowledgement).count >= 2
        }
        let answeredWithSession: @Sendable ([HTTPRecordingProxy.Exchange]) -> Int? = { log in
            log.firstIndex { Self.isHeartbeat($0) && $0.answerText.contains(Self.sessionId) && $0.status == 200 }
        }
        try await proxy.waitUntil("the acknowledgement and a heartbeat answered with the session") { log in
            secondAck(log) || (log.contains(where: Self.isAcknowledgement) && answeredWithSession(log) != nil)
        }
        #expect(try await game.session().sessionId == nil, "the game sees no session before gsmsd confirms it")
        // The agent heartbeats again at once when its state changes; that heartbeat is sent only
        // after the previous answer was reconciled.
        _ = try await game.heartbeat(HeartbeatRequest(health: .unhealthy))
        try await proxy.waitUntil("a heartbeat after the reconciliation") { log in
            guard let answered = answeredWithSession(log) else { return secondAck(log) }
            return secondAck(log) || log[(answered + 1)...].contains(where: Self.isHeartbeat)
        }
        #expect(proxy.exchanges.filter(Self.isAcknowledgement).count == 1, "\(proxy.exchanges)\n\(agent.log)")

        _ = try await game.heartbeat(HeartbeatRequest(health: .healthy))
        proxy.release()
        let answer = try await title.value
        #expect(answer.status == 200, "\(answer)\n\(agent.log)")
        #expect(answer.json["sessionHostId"] as? String == "vm-1")
        // The title's 200 goes out as gsmsd commits; the agent shows the session once the
        // acknowledgement's answer reaches it, a moment later.
        #expect(try await game.session(wait: .seconds(10)).sessionId == Self.sessionId)
        #expect(proxy.exchanges.filter(Self.isAcknowledgement).count == 1)

        try await agent.stop()
        await proxy.stop()
        try await gsms.stop()
    }

    @Test(
        "an agent killed while its acknowledgement is unanswered acknowledges once after the restart; its game sees the session only then"
    )
    func killedBetweenSaveAndAcknowledgement() async throws {
        let (gsms, proxy, agent, game) = try await Self.setUp()
        let title = Task { try await gsms.allocate(["sessionId": Self.sessionId, "sessionCookie": "map=dust2"]) }

        // The agent saves a hand-off before it acknowledges it: once the acknowledgement reaches
        // the proxy (which never forwards it), the hand-off is saved and not confirmed, and the
        // game does not see it.
        try await proxy.waitUntil("the acknowledgement") { $0.contains(where: Self.isAcknowledgement) }
        #expect(try await game.session().sessionId == nil)
        try await agent.stop(signal: SIGKILL)

        proxy.hold(nil)
        let killedAt = proxy.exchanges.count
        try await agent.restart()
        let answer = try await title.value
        #expect(answer.status == 200, "\(answer)\n\(agent.log)")
        #expect(answer.json["sessionHostId"] as? String == "vm-1")
        #expect(answer.json["hostName"] as? String == "vm-1.example.net")

        // Once the acknowledgement was answered, the next heartbeat shows that the agent has
        // moved on; by then a second acknowledgement would have been sent.
        try await proxy.waitUntil("a heartbeat after the acknowledgement was answered") { log in
            guard let ack = log[killedAt...].firstIndex(where: { Self.isAcknowledgement($0) && $0.status != nil })
            else { return false }
            return log[(ack + 1)...].contains(where: Self.isHeartbeat)
        }
        let acknowledgements = proxy.exchanges[killedAt...].filter(Self.isAcknowledgement)
        #expect(acknowledgements.count == 1, "\(proxy.exchanges)\n\(agent.log)")
        #expect(acknowledgements.first?.status == 200)
        #expect(acknowledgements.first?.text.contains(Self.sessionId) == true)

        let session = try await game.session(wait: .seconds(10))
        #expect(session.sessionId == Self.sessionId)
        #expect(session.sessionCookie == "map=dust2")
        #expect(session.state == .active)
        let status = try await gsms.hostStatus("vm-1").json
        #expect(status["state"] as? String == "Active")
        #expect(status["sessionId"] as? String == Self.sessionId)

        try await agent.stop()
        await proxy.stop()
        try await gsms.stop()
    }

    @Test(
        "an acknowledgement that never reaches gsmsd: the game never sees the session, the agent gives it up at the deadline, and the host takes the next one"
    )
    func acknowledgementLost() async throws {
        let (gsms, proxy, agent, game) = try await Self.setUp(handoffTimeout: 2)
        let events = game.events()
        let seen = SessionsSeen()
        let watcher = Task {
            for try await event in events {
                if let sessionId = event.sessionId { seen.insert(sessionId) }
            }
        }
        // The only host misses the deadline: the title is told that no host is available.
        let lost = try await gsms.allocate(["sessionId": Self.sessionId, "sessionCookie": "map=dust2"])
        #expect(lost.status == 503, "\(lost)")
        try await Deadline.waitUntil("the agent to give the hand-off up", timeout: .seconds(30)) {
            agent.log.contains("did not answer the acknowledgement before the hand-off's deadline")
        }
        #expect(try await game.session().sessionId == nil)
        let sent = proxy.exchanges.filter(Self.isAcknowledgement).count
        #expect(sent >= 1)

        // From now on acknowledgements go through (the held ones never do); the host is back.
        proxy.hold(nil)
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy", timeout: .seconds(30))
        let next = try await gsms.allocate(["sessionId": OutageTests.otherSessionId])
        #expect(next.status == 200, "\(next)\n\(agent.log)")
        #expect(try await game.session(wait: .seconds(10)).sessionId == OutageTests.otherSessionId)
        #expect(
            proxy.exchanges.filter { Self.isAcknowledgement($0) && $0.text.contains(Self.sessionId) }.count == sent,
            "no acknowledgement of the given-up hand-off after the deadline")
        try await Deadline.waitUntil("the game's event stream to show the new session", timeout: .seconds(10)) {
            seen.contains(OutageTests.otherSessionId)
        }
        #expect(!seen.contains(Self.sessionId), "the game never saw the session gsmsd answered 503 for")
        watcher.cancel()
        try await agent.stop()
        await proxy.stop()
        try await gsms.stop()
    }
}

/// The session ids a game saw on its event stream.
final class SessionsSeen: Sendable {
    private let ids = Mutex<Set<String>>([])
    func insert(_ id: String) { _ = ids.withLock { $0.insert(id) } }
    func contains(_ id: String) -> Bool { ids.withLock { $0.contains(id) } }
}
