import Foundation
import Logging
import SessionHostAgent
import SessionHostModel
import Testing

@Suite("GSDK: what the front end keeps across agent restarts, and the log folder")
struct GSDKPersistenceTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A `HostAgent` and a GSDK front end over `directory`'s state directory, the front end opened
    /// as `GSDKListener` opens it: a fresh agent process on the same state directory.
    static func start(_ directory: TemporaryDirectory, healthTimeout: Duration? = nil) async throws -> (
        AgentFixture, GSDKFrontEnd
    ) {
        let fixture = try AgentFixture(directory: directory, healthTimeout: healthTimeout)
        let frontEnd = GSDKFrontEnd(agent: fixture.agent, logger: logger)
        try await frontEnd.open(GSDKStateStore(directory: fixture.store.directory))
        return (fixture, frontEnd)
    }

    /// The game server stands by, is handed the session, and reports Active with it.
    static func takeSession(_ fixture: AgentFixture, _ frontEnd: GSDKFrontEnd) async throws {
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        _ = try await fixture.agent.allocate(
            AllocationRequest(sessionId: AgentFixture.sessionId, sessionCookie: "map=dust2"))
        let handedOver = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        #expect(handedOver.operation == .active)
        _ = try await frontEnd.heartbeat(GSDKHeartbeatRequest(currentGameState: .active))
    }

    @Test(
        "after an agent restart, a new game process is not handed the session its predecessor took: it is ended and the new one stands by"
    )
    func newProcessAfterRestart() async throws {
        let directory = try TemporaryDirectory()
        let (before, frontEnd) = try await Self.start(directory)
        try await Self.takeSession(before, frontEnd)

        // The agent restarts; meanwhile the game server's match ended and systemd started the next one.
        let (fixture, restarted) = try await Self.start(directory)
        #expect(
            await fixture.agent.session?.sessionId == AgentFixture.sessionId, "the host still holds the old session")
        let initializing = try await restarted.heartbeat(GSDKHeartbeatRequest(currentGameState: .initializing))
        #expect(initializing.operation == .continue)
        #expect(initializing.sessionConfig == nil)
        #expect(await fixture.agent.state == .terminating, "the old session ended")
        #expect(await fixture.agent.unreportedEnd == AgentFixture.sessionId, "gsmsd will be told")

        let standingBy = try await restarted.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        #expect(standingBy.operation == .continue, "not Active with the old session")
        #expect(standingBy.sessionConfig == nil)
        #expect(await fixture.agent.state == .standingBy)
    }

    @Test(
        "after an agent restart, a new process whose first heartbeat is StandingBy ends the old session and stands by")
    func newProcessStandingByAfterRestart() async throws {
        let directory = try TemporaryDirectory()
        let (before, frontEnd) = try await Self.start(directory)
        try await Self.takeSession(before, frontEnd)

        let (fixture, restarted) = try await Self.start(directory)
        let answer = try await restarted.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        #expect(answer.operation == .continue, "not Active with the old session")
        #expect(answer.sessionConfig == nil)
        #expect(await fixture.agent.state == .standingBy)
        #expect(await fixture.agent.unreportedEnd == AgentFixture.sessionId)

        // A session allocated now is handed to the new process as usual.
        _ = try await fixture.agent.allocate(AllocationRequest(sessionId: "9b2e8f3c-1d4a-4b5c-8e6f-7a8b9c0d1e2f"))
        let next = try await restarted.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        #expect(next.operation == .active)
        #expect(next.sessionConfig?.sessionId == "9b2e8f3c-1d4a-4b5c-8e6f-7a8b9c0d1e2f")
    }

    @Test(
        "after an agent restart, the game server that took its session keeps it, and one not yet Active is still handed it"
    )
    func sameProcessAfterRestart() async throws {
        let directory = try TemporaryDirectory()
        let (before, frontEnd) = try await Self.start(directory)
        try await Self.takeSession(before, frontEnd)
        let (fixture, restarted) = try await Self.start(directory)
        let active = try await restarted.heartbeat(GSDKHeartbeatRequest(currentGameState: .active))
        #expect(active.operation == .continue)
        #expect(active.sessionConfig?.sessionId == AgentFixture.sessionId)
        #expect(await fixture.agent.state == .active)

        // Offered but never reported Active: the game server has not taken it, so it is handed over.
        let other = try TemporaryDirectory()
        let (offeredFixture, offered) = try await Self.start(other)
        _ = try await offered.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy))
        _ = try await offeredFixture.agent.allocate(AllocationRequest(sessionId: AgentFixture.sessionId))
        #expect(try await offered.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy)).operation == .active)
        let (_, offeredAgain) = try await Self.start(other)
        #expect(
            try await offeredAgain.heartbeat(GSDKHeartbeatRequest(currentGameState: .standingBy)).operation == .active)
    }

    @Test("a taken session restored after a restart is watched for silence at once")
    func restoredSilence() async throws {
        let directory = try TemporaryDirectory()
        let (before, frontEnd) = try await Self.start(directory)
        try await Self.takeSession(before, frontEnd)
        let (fixture, restarted) = try await Self.start(directory, healthTimeout: .milliseconds(200))
        let deadline = try #require(
            await restarted.silenceDeadline(), "the game server that took the session must heartbeat again")
        try await Deadline.waitUntilAsync("the silence deadline") { ContinuousClock.now >= deadline }
        await restarted.endSessionIfSilent()
        #expect(await fixture.agent.state == .terminating)
        #expect(await fixture.agent.unreportedEnd == AgentFixture.sessionId)
        let store = GSDKStateStore(directory: fixture.store.directory)
        #expect(try store.load().state.takenSessionId == nil, "the end is saved too")
    }

    @Test("gsdk.json: saved and loaded; one that cannot be read is moved aside")
    func store() throws {
        let directory = try TemporaryDirectory()
        let store = GSDKStateStore(directory: directory.path)
        #expect(try store.load().state == GSDKSavedState())
        let state = GSDKSavedState(listenHost: "127.0.0.1", listenPort: 41234, takenSessionId: AgentFixture.sessionId)
        try store.save(state)
        #expect(try store.load().state == state)

        try Data("{not json".utf8).write(to: URL(fileURLWithPath: store.path))
        let (loaded, warning) = try store.load()
        #expect(loaded == GSDKSavedState())
        #expect(warning?.contains("moved it to") == true)
        #expect(!FileManager.default.fileExists(atPath: store.path))
    }

    @Test("the default log folder is created writable by the group, whatever the umask; an existing one is fixed up")
    func logFolder() throws {
        let directory = try TemporaryDirectory()
        let folder = directory.file("gsdk-logs")
        // The umask (022 for the tests, 027 for the agent's unit) takes the group's write bit
        // from mkdir's mode: the folder must still end up 0770. The umask is process-wide, so the
        // test leaves it as it is.
        try GSDKConfigFile.prepareLogFolder(folder)
        var info = stat()
        #expect(stat(folder, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFDIR)
        #expect(info.st_mode & 0o7777 == 0o770)
        #expect(info.st_gid == getegid())

        chmod(folder, 0o750)
        try GSDKConfigFile.prepareLogFolder(folder)
        #expect(stat(folder, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o770)

        let file = directory.file("not-a-folder")
        #expect(FileManager.default.createFile(atPath: file, contents: nil))
        let error = #expect(throws: AgentError.self) { try GSDKConfigFile.prepareLogFolder(file) }
        #expect(error?.code == .gsdkLogFolder)
    }
}
