import SessionHostAgent
import SessionHostModel
import Testing

@Suite("Host lifecycle transitions")
struct HostLifecycleTests {
    let sessionId = "3536d3e6-e85d-4f47-b898-9617d19dabcd"

    func lifecycle(_ state: HostState = .initializing, session: SessionRecord? = nil) -> HostLifecycle {
        HostLifecycle(record: AgentStateRecord(sessionHostId: "h", state: state, session: session))
    }

    @Test("ready moves Initializing and Terminating to StandingBy and is idempotent")
    func ready() throws {
        var host = lifecycle()
        try host.ready()
        #expect(host.state == .standingBy)
        try host.ready()
        #expect(host.state == .standingBy)
        var ended = lifecycle(.terminating)
        try ended.ready()
        #expect(ended.state == .standingBy)
    }

    @Test("ready while holding a session is refused with 409 and changes nothing")
    func readyWhileActive() throws {
        var host = lifecycle(.standingBy)
        try host.allocate(sessionId: sessionId, cookie: "c", at: "t")
        let before = host
        let error = #expect(throws: AgentError.self) { try host.ready() }
        #expect(error?.kind == .conflict)
        #expect(error.map(GameSocketAPI.status(of:)) == 409)
        #expect(host == before)
    }

    @Test("only a StandingBy host takes a session; the same hand-off again is idempotent")
    func allocate() throws {
        var initializing = lifecycle()
        let error = #expect(throws: AgentError.self) {
            try initializing.allocate(sessionId: sessionId, cookie: nil, at: "t")
        }
        #expect(error?.kind == .conflict)
        #expect(error.map(GameSocketAPI.status(of:)) == 409)
        #expect(initializing.state == .initializing)

        var host = lifecycle(.standingBy)
        try host.allocate(sessionId: sessionId.uppercased(), cookie: "c", at: "t")
        #expect(host.state == .active)
        #expect(host.session == SessionRecord(sessionId: sessionId, sessionCookie: "c", allocatedAt: "t"))
        try host.allocate(sessionId: sessionId, cookie: "c", at: "later")
        #expect(host.session?.allocatedAt == "t")
        let other = #expect(throws: AgentError.self) {
            try host.allocate(sessionId: "00000000-0000-0000-0000-000000000001", cookie: nil, at: "t")
        }
        #expect(other?.kind == .conflict)
        #expect(other.map(GameSocketAPI.status(of:)) == 409)
    }

    @Test("bad hand-offs are 400 and change nothing")
    func invalidAllocation() {
        var host = lifecycle(.standingBy)
        let badId = #expect(throws: AgentError.self) {
            try host.allocate(sessionId: "not-a-guid", cookie: nil, at: "t")
        }
        #expect(badId?.kind == .invalidRequest)
        #expect(badId.map(GameSocketAPI.status(of:)) == 400)
        #expect(badId?.code == AgentError.Code(InvalidInput.Code.invalidSessionId))
        let bigCookie = #expect(throws: AgentError.self) {
            try host.allocate(sessionId: sessionId, cookie: String(repeating: "x", count: 4097), at: "t")
        }
        #expect(bigCookie?.code == AgentError.Code(InvalidInput.Code.sessionCookieTooLarge))
        #expect(host.state == .standingBy)
        #expect(host.session == nil)
    }

    @Test("ending needs a session; afterwards the host is Terminating without one")
    func endSession() throws {
        var host = lifecycle(.standingBy)
        #expect(throws: AgentError.self) { try host.endSession() }
        try host.allocate(sessionId: sessionId, cookie: nil, at: "t")
        try host.endSession()
        #expect(host.state == .terminating)
        #expect(host.session == nil)
        #expect(throws: AgentError.self) { try host.endSession() }
    }

    @Test("missed heartbeats make monitored states Unhealthy; a healthy heartbeat restores them")
    func health() throws {
        var idle = lifecycle()
        idle.heartbeatsMissed()
        #expect(idle.state == .initializing, "a game that never called ready is not monitored")

        var standing = lifecycle(.standingBy)
        standing.heartbeatsMissed()
        #expect(standing.state == .unhealthy)
        standing.heartbeat(health: .healthy)
        #expect(standing.state == .standingBy)

        var active = lifecycle(.standingBy)
        try active.allocate(sessionId: sessionId, cookie: nil, at: "t")
        active.heartbeat(health: .unhealthy)
        #expect(active.state == .unhealthy)
        #expect(active.session?.sessionId == sessionId, "the session survives Unhealthy")
        active.heartbeat(health: nil)
        #expect(active.state == .active)
    }

    @Test("an Unhealthy host without a session is StandingBy again when the game calls ready")
    func readyRecoversUnhealthy() throws {
        var host = lifecycle(.standingBy)
        host.heartbeatsMissed()
        try host.ready()
        #expect(host.state == .standingBy)
        #expect(host.record.stateBeforeUnhealthy == nil)
    }

    @Test("an Unhealthy host holding a session may still end it")
    func endWhileUnhealthy() throws {
        var host = lifecycle(.standingBy)
        try host.allocate(sessionId: sessionId, cookie: nil, at: "t")
        host.heartbeatsMissed()
        try host.endSession()
        #expect(host.state == .terminating)
    }
}
