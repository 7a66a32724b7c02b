@testable import SessionHostAgent
import SessionHostModel
import Testing

/// The agent's side of a hand-off (docs/control-plane-api.md, "The hand-off, step by step"):
/// a hand-off waits unseen by the game until gsmsd confirms it, and only an answer newer than
/// what the agent knew may take a session or a waiting hand-off away.
@Suite("hand-off confirmation and revisions")
struct HandoffConfirmationTests {
    let sessionId = "3536d3e6-e85d-4f47-b898-9617d19dabcd"

    func handoff(_ id: String, revision: Int64? = 100) -> Handoff {
        Handoff(
            sessionHostId: "h", titleId: "1234", sessionId: id, sessionCookie: "map=dust2",
            allocatedAt: "2026-11-21T17:27:42.759Z", acknowledgeBy: "2026-11-21T17:27:47.759Z", revision: revision)
    }

    func standingBy() -> HostLifecycle {
        HostLifecycle(record: AgentStateRecord(sessionHostId: "h", state: .standingBy))
    }

    @Test("a reserved hand-off is not the host's session until it is confirmed")
    func reserveThenConfirm() throws {
        var host = standingBy()
        try host.reserve(handoff(sessionId))
        #expect(host.session == nil)
        #expect(host.state == .standingBy)
        #expect(host.record.unconfirmedHandoff?.sessionId == sessionId)
        try host.reserve(handoff(sessionId)) // the same hand-off again changes nothing
        let confirmedOnce = host.confirm(sessionId: sessionId, revision: 101)
        #expect(confirmedOnce)
        #expect(host.state == .active)
        #expect(host.session?.sessionCookie == "map=dust2")
        #expect(host.session?.revision == 101)
        #expect(host.record.unconfirmedHandoff == nil)
        let confirmedAgain = host.confirm(sessionId: sessionId, revision: 102)
        #expect(confirmedAgain, "confirming again is idempotent")
    }

    @Test("a confirmation of another session, or with nothing waiting, changes nothing")
    func confirmWithoutWaitingHandoff() throws {
        var host = standingBy()
        let confirmedWithNothingWaiting = host.confirm(sessionId: sessionId, revision: 5)
        #expect(!confirmedWithNothingWaiting)
        try host.reserve(handoff(sessionId))
        let confirmedAnotherSession = host.confirm(sessionId: "other", revision: 5)
        #expect(!confirmedAnotherSession)
        #expect(host.session == nil)
    }

    @Test("a refused or abandoned hand-off is forgotten without a trace for the game")
    func forget() throws {
        var host = standingBy()
        let before = host
        try host.reserve(handoff(sessionId))
        host.forgetUnconfirmed(sessionId: "other")
        #expect(host.record.unconfirmedHandoff != nil)
        host.forgetUnconfirmed(sessionId: sessionId)
        #expect(host == before)
    }

    @Test("only a StandingBy host reserves a hand-off, and not while it holds another session")
    func reserveRefused() throws {
        var unhealthy = HostLifecycle(record: AgentStateRecord(sessionHostId: "h", state: .unhealthy))
        #expect(throws: AgentError.self) { try unhealthy.reserve(handoff(sessionId)) }
        var busy = standingBy()
        try busy.reserve(handoff("first"))
        let confirmedFirst = busy.confirm(sessionId: "first", revision: nil)
        #expect(confirmedFirst)
        #expect(throws: AgentError.self) { try busy.reserve(handoff("second")) }
        try busy.reserve(handoff("first")) // the held session handed over again: nothing to do
    }

    @Test("adopting gsmsd's session replaces a waiting hand-off")
    func adoptClearsWaiting() throws {
        var host = standingBy()
        try host.reserve(handoff("stale"))
        host.adopt(SessionRecord(sessionId: sessionId, sessionCookie: nil, allocatedAt: "t", revision: 200))
        #expect(host.session?.sessionId == sessionId)
        #expect(host.record.unconfirmedHandoff == nil)
    }

    @Test("only an answer newer than the session's revision supersedes it; without revisions every answer does")
    func superseded() {
        let session = SessionRecord(sessionId: sessionId, sessionCookie: nil, allocatedAt: "t", revision: 100)
        #expect(!session.isSuperseded(by: 99))
        #expect(!session.isSuperseded(by: 100))
        #expect(session.isSuperseded(by: 101))
        #expect(session.isSuperseded(by: nil))
        #expect(SessionRecord(sessionId: sessionId, sessionCookie: nil, allocatedAt: "t").isSuperseded(by: 1))
    }

    @Test("the fence admits answers at or above the newest revision seen, and every answer without one")
    func fence() async {
        let fence = RevisionFence()
        #expect(await fence.admit(10))
        #expect(await fence.admit(10))
        #expect(await !fence.admit(9))
        #expect(await fence.admit(nil))
        #expect(await fence.admit(12))
        #expect(await fence.newest == 12)
        #expect(await !fence.admit(11))
    }

    @Test("the acknowledgement window is gsmsd's own acknowledgeBy − allocatedAt")
    func acknowledgementWindow() {
        #expect(handoff(sessionId).acknowledgementWindow == .seconds(5))
        var unreadable = handoff(sessionId)
        unreadable.acknowledgeBy = "soon"
        #expect(unreadable.acknowledgementWindow == .seconds(5))
        var long = handoff(sessionId)
        long.acknowledgeBy = "2026-11-21T17:29:42.759Z"
        #expect(long.acknowledgementWindow == .seconds(120))
    }

    @Test("a wake signal wakes waiters that have not seen it, and a cancelled waiter returns")
    func wakeSignal() async {
        let signal = WakeSignal()
        let seen = await signal.count
        let waiter = Task { await signal.wait(since: seen) }
        await signal.fire()
        await waiter.value
        await signal.wait(since: seen) // fired after `seen`: returns at once
        let later = await signal.count
        let cancelled = Task { await signal.wait(since: later) }
        cancelled.cancel()
        await cancelled.value
        #expect(await signal.count == later)
    }
}
