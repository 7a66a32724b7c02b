import Foundation
import SessionHostAgent
import SessionHostModel
import Testing

@Suite("HostAgent: durable state, events and long polls")
struct HostAgentTests {
    @Test("a hand-off is on disk before it is acknowledged, and a new agent reads it back")
    func persistence() async throws {
        let fixture = try AgentFixture()
        _ = try await fixture.agent.ready()
        let session = try await fixture.agent.allocate(
            AllocationRequest(sessionId: AgentFixture.sessionId, sessionCookie: "cookie"))
        #expect(session.state == .active)
        let (saved, warning) = try fixture.store.load()
        #expect(warning == nil)
        #expect(saved?.session?.sessionId == AgentFixture.sessionId)
        #expect(saved?.session?.sessionCookie == "cookie")

        let reopened = try AgentFixture(directory: fixture.directory)
        let again = reopened.agent.sessionInfo()
        #expect(again.state == .active)
        #expect(again.sessionId == AgentFixture.sessionId)
        #expect(again.sessionCookie == "cookie")
        #expect(reopened.agent.sessionHostId == "derived-host-id", "the host id is kept")
    }

    @Test("the host id: flag first, then the saved one, then derived")
    func hostIdentity() async throws {
        let first = try AgentFixture(hostId: "configured")
        #expect(first.agent.sessionHostId == "configured")
        let second = try AgentFixture(directory: first.directory)
        #expect(second.agent.sessionHostId == "configured", "the saved id wins over the derived one")
    }

    @Test("when the state cannot be saved, the change is refused and nothing changes")
    func saveFailure() async throws {
        let fixture = try AgentFixture()
        _ = try await fixture.agent.ready()
        // A directory where the state file should be makes the rename fail even for root.
        try FileManager.default.removeItem(atPath: fixture.store.path)
        try FileManager.default.createDirectory(atPath: fixture.store.path, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(
            atPath: fixture.store.path + "/keep", withIntermediateDirectories: false)
        let error = await #expect(throws: AgentError.self) {
            try await fixture.agent.allocate(AllocationRequest(sessionId: AgentFixture.sessionId))
        }
        #expect(error?.code == .stateNotSaved)
        #expect(await fixture.agent.state == .standingBy)
        #expect(fixture.agent.sessionInfo().sessionId == nil)
    }

    @Test("a corrupt state file is moved aside, not overwritten")
    func corruptState() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.file("state"), withIntermediateDirectories: true)
        try "{ not json".write(toFile: directory.file("state/state.json"), atomically: true, encoding: .utf8)
        _ = try AgentFixture(directory: directory)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.file("state"))
        #expect(files.contains { $0.hasPrefix("state.json.corrupt-") })
        #expect(files.contains("state.json"))
    }

    @Test("a waiting long poll returns the moment a session arrives")
    func longPollWakes() async throws {
        let fixture = try AgentFixture()
        _ = try await fixture.agent.ready()
        let events = await fixture.agent.events()
        let waiter = Task { await fixture.agent.waitForSession(timeout: .seconds(600)) }
        // The waiter subscribes before it sleeps; give it the first event to be sure it waits.
        _ = try await first(events) { $0.state == .standingBy }
        _ = try await fixture.agent.allocate(AllocationRequest(sessionId: AgentFixture.sessionId, sessionCookie: "c"))
        let session = try await Deadline.within(.seconds(30), "the waiting long poll") { await waiter.value }
        #expect(session.sessionId == AgentFixture.sessionId, "the wait of 600 s ended with the hand-off")
    }

    @Test("a long poll with nothing to wait for answers at once with the current state")
    func longPollTimesOut() async throws {
        let fixture = try AgentFixture()
        let session = await fixture.agent.waitForSession(timeout: .milliseconds(1))
        #expect(session.state == .initializing)
        #expect(session.sessionId == nil)
    }

    @Test("events start with the current state and follow every change")
    func eventStream() async throws {
        let fixture = try AgentFixture()
        let events = await fixture.agent.events()
        var iterator = events.makeAsyncIterator()
        #expect(await iterator.next()?.state == .initializing)
        _ = try await fixture.agent.ready()
        _ = try await fixture.agent.allocate(AllocationRequest(sessionId: AgentFixture.sessionId))
        _ = try await fixture.agent.endSession()
        let standing = await iterator.next()
        let active = await iterator.next()
        let ended = await iterator.next()
        #expect(standing?.state == .standingBy)
        #expect(active?.state == .active)
        #expect(active?.sessionId == AgentFixture.sessionId)
        #expect(ended?.state == .terminating)
        #expect((standing?.sequence ?? 0) < (active?.sequence ?? 0))
    }

    @Test(
        "a game that stops heartbeating makes the host Unhealthy at the health timeout, not before; a heartbeat brings it back"
    )
    func healthTimeout() async throws {
        let clock = ManualClock()
        let fixture = try AgentFixture(healthTimeout: .seconds(10), clock: clock)
        let monitor = Task { try await HealthMonitor(agent: fixture.agent).run() }
        defer { monitor.cancel() }
        let events = await fixture.agent.events()
        _ = try await fixture.agent.ready()
        // The monitor sleeps until the deadline, 10 s after ready.
        try await clock.advance(by: .seconds(9), afterSleepers: 1)
        #expect(await fixture.agent.state == .standingBy, "9 s of silence is within the timeout")
        // A heartbeat at 9 s moves the deadline to 19 s: the monitor wakes at 10 s and sleeps again.
        _ = try await fixture.agent.heartbeat(HeartbeatRequest(health: .healthy))
        try await clock.advance(by: .seconds(1), afterSleepers: 1)
        try await clock.advance(by: .seconds(8), afterSleepers: 1)
        #expect(await fixture.agent.state == .standingBy, "18 s, 9 s after the heartbeat")
        try await clock.advance(by: .seconds(1), afterSleepers: 1)
        let unhealthy = try await first(events) { $0.state == .unhealthy }
        #expect(unhealthy.reason == "no heartbeat from the game server for 10s")
        #expect(await fixture.agent.statusText().hasPrefix("Unhealthy"))
        // The heartbeat's answer shows the recovery; a later read could race the monitor's next timeout.
        #expect(try await fixture.agent.heartbeat(HeartbeatRequest(health: .healthy)).state == .standingBy)
    }

    @Test("events are dated by the agent's wall clock")
    func eventsDatedByWallClock() async throws {
        let clock = ManualClock(startDate: Date(timeIntervalSince1970: 1_800_000_000))
        let fixture = try AgentFixture(clock: clock)
        let events = await fixture.agent.events()
        clock.advance(by: .seconds(90))
        _ = try await fixture.agent.ready()
        let standing = try await first(events) { $0.state == .standingBy }
        #expect(standing.at.hasPrefix("2027-01-15T08:01:30"), "\(standing.at)")
    }

    @Test("a long poll for a session answers with the current state when its wait passes on the agent's clock")
    func longPollTimesOutOnClock() async throws {
        let clock = ManualClock()
        let fixture = try AgentFixture(clock: clock)
        _ = try await fixture.agent.ready()
        let waiter = Task { await fixture.agent.waitForSession(timeout: .seconds(600)) }
        try await clock.advance(by: .seconds(600), afterSleepers: 1)
        let session = try await Deadline.within(.seconds(30), "the long poll") { await waiter.value }
        #expect(session.state == .standingBy)
        #expect(session.sessionId == nil)
    }

    @Test("players belong to one session: none reported before it, none carried into the next")
    func playersPerSession() async throws {
        let fixture = try AgentFixture()
        _ = try await fixture.agent.ready()
        _ = try await fixture.agent.heartbeat(HeartbeatRequest(health: .healthy, players: [Player(playerId: "early")]))
        _ = try await fixture.agent.allocate(AllocationRequest(sessionId: AgentFixture.sessionId))
        #expect(fixture.agent.sessionInfo().players == nil, "a report without a session belongs to no session")
        _ = try await fixture.agent.heartbeat(HeartbeatRequest(health: .healthy, players: [Player(playerId: "alice")]))
        #expect(fixture.agent.sessionInfo().players == [Player(playerId: "alice")])
        _ = try await fixture.agent.endSession()
        _ = try await fixture.agent.heartbeat(
            HeartbeatRequest(health: .healthy, players: [Player(playerId: "lingering")]))
        _ = try await fixture.agent.ready()
        _ = try await fixture.agent.allocate(AllocationRequest(sessionId: "11111111-2222-3333-4444-555555555555"))
        #expect(fixture.agent.sessionInfo().players == nil, "the previous match's players do not leak into this one")
    }

    @Test("status texts say the state in words")
    func statusText() async throws {
        let fixture = try AgentFixture()
        #expect(await fixture.agent.statusText().hasPrefix("Initializing"))
        _ = try await fixture.agent.ready()
        #expect(await fixture.agent.statusText() == "StandingBy (title 1234ABCD, region WestUS)")
        _ = try await fixture.agent.allocate(AllocationRequest(sessionId: AgentFixture.sessionId))
        #expect(await fixture.agent.statusText() == "Active session \(AgentFixture.sessionId) (title 1234ABCD)")
    }
}
