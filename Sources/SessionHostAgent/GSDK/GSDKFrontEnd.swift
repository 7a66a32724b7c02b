import Logging
import SessionHostModel

/// The GSDK's view of the host: runs each heartbeat's steps (`GSDKHeartbeatTranslation`) on the
/// same `HostAgent` the socket API drives, and answers with the operation for the game server.
/// It keeps the session the game server last reported Active with (`taken`), which tells a new
/// game server process from one that has not yet seen its session: an SDK never goes back from
/// Active, so an Initializing or StandingBy heartbeat while the host holds the taken session
/// comes from a new process, and the old one's match is over. `taken` is saved in the state
/// directory (`open`) before the heartbeat that reported it is answered, so that an agent
/// restart does not forget it. It also keeps, in memory, when it last heard from the game
/// server: a GSDK game server ends its match by exiting, so one that took its session and then
/// falls silent for the health timeout has ended it (`endSessionIfSilent`).
public actor GSDKFrontEnd {
    /// What the SDKs are told to wait between heartbeats: the smallest interval they accept, so
    /// that an allocation reaches the game server within a second.
    public static let heartbeatIntervalMilliseconds = 1000

    public nonisolated let agent: HostAgent
    private let logger: Logger
    private var taken: String? {
        didSet { if taken != nil, taken != oldValue { takenContinuation.yield() } }
    }
    private var reportedSDK: GSDKInfoReport?
    /// Where `taken` and the listener's port are kept across restarts (`open`); `nil`: in memory only.
    private var store: GSDKStateStore?
    /// What `store` holds.
    private var saved = GSDKSavedState()
    /// Whether the last save of `taken` failed (logged once, retried at every heartbeat).
    private var saveFailing = false
    /// Whether the game server was already told to terminate (logged once, not every second).
    private var toldToTerminate = false
    private let clock = ContinuousClock()
    private var lastHeartbeat: ContinuousClock.Instant
    /// Yields when the game server takes a session (for `GSDKSilenceMonitor`).
    public nonisolated let sessionTaken: AsyncStream<Void>
    private let takenContinuation: AsyncStream<Void>.Continuation

    public init(agent: HostAgent, logger: Logger) {
        self.agent = agent
        self.logger = logger
        lastHeartbeat = clock.now
        (sessionTaken, takenContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The session host id the SDKs name in their URLs.
    public nonisolated var sessionHostId: String { agent.sessionHostId }

    /// Loads what the front end kept before the agent restarted (the session the game server had
    /// taken, the port the kernel picked) and saves every later change to `store`. `GSDKListener`
    /// calls it before it binds, so before any heartbeat; a restored `taken` wakes the
    /// `GSDKSilenceMonitor`, which ends the session if its game server stays silent.
    @discardableResult
    public func open(_ store: GSDKStateStore) throws(AgentError) -> GSDKSavedState {
        let (state, warning) = try store.load()
        if let warning { logger.error("\(warning)") }
        self.store = store
        saved = state
        if taken == nil, let restored = state.takenSessionId {
            logger.info(
                "the GSDK game server had taken its session before the agent restarted",
                metadata: ["session_id": "\(restored)"])
            taken = restored
        }
        return state
    }

    /// Saves the port the kernel picked for `--gsdk-listen HOST:0`, so that the next start binds
    /// it again (the running game server heartbeats the port its config file named). Nothing is
    /// kept without `open`.
    public func keepListenPort(host: String, port: Int) throws(AgentError) {
        guard let store else { return }
        var next = saved
        next.listenHost = host
        next.listenPort = port
        try store.save(next)
        saved = next
    }

    /// Saves `taken` when it changed. A failure is logged (once) and the save retried at the next
    /// heartbeat: the heartbeat's own effect already applied, and `taken` still holds in memory.
    private func saveTaken() {
        guard let store, saved.takenSessionId != taken else { return }
        var next = saved
        next.takenSessionId = taken
        do {
            try store.save(next)
            saved = next
            saveFailing = false
        } catch {
            if !saveFailing {
                logger.error(
                    "the GSDK game server's session could not be saved; kept in memory",
                    metadata: ["error": "\(error.message)"])
            }
            saveFailing = true
        }
    }

    /// A heartbeat: applies its steps, then answers from the host's state after them. A step the
    /// host's state no longer allows (an allocation arrived meanwhile: 409) is skipped; a state
    /// that cannot be saved (503) is the answer.
    public func heartbeat(_ request: GSDKHeartbeatRequest) async throws(AgentError) -> GSDKHeartbeatResponse {
        lastHeartbeat = clock.now
        let held = await agent.session?.sessionId
        let steps = GSDKHeartbeatTranslation.steps(gameState: request.currentGameState, session: held, taken: taken)
        for step in steps {
            do {
                switch step {
                case .ready:
                    _ = try await agent.ready()
                case .signOfLife:
                    _ = try await agent.heartbeat(HeartbeatRequest(players: request.currentPlayers))
                case .endSession:
                    logger.info(
                        "the GSDK game server ended its session",
                        metadata: [
                            "session_id": "\(held ?? "-")", "game_state": "\(request.currentGameState.rawValue)",
                        ])
                    _ = try await agent.endSession()
                    taken = nil
                }
            } catch  where error.kind == .conflict {
                logger.debug(
                    "GSDK heartbeat step skipped", metadata: ["step": "\(step)", "reason": "\(error.message)"])
            }
        }
        let session = agent.sessionInfo()
        if request.currentGameState == .active, let sessionId = session.sessionId {
            taken = sessionId
        }
        // Saved before the answer: a game server that reported Active is known to have taken its
        // session even if the agent is killed right after.
        saveTaken()
        let operation = GSDKHeartbeatTranslation.operation(
            gameState: request.currentGameState, session: session.sessionId)
        if operation == .terminate, !toldToTerminate {
            logger.info("the GSDK game server is Active without a session on this host: told to terminate")
        }
        toldToTerminate = operation == .terminate
        return GSDKHeartbeatResponse(
            currentGameState: request.currentGameState.rawValue,
            operation: operation,
            nextHeartbeatIntervalMs: Self.heartbeatIntervalMilliseconds,
            sessionConfig: operation == .active || request.currentGameState == .active
                ? GSDKHeartbeatTranslation.sessionConfig(for: session) : nil,
            nextScheduledMaintenanceUtc: GSDKHeartbeatTranslation.maintenanceTime(for: agent.drain))
    }

    /// When the game server that took the host's session counts as gone: the health timeout after
    /// its last heartbeat; `nil` while it holds no session or without a health timeout.
    public func silenceDeadline() async -> ContinuousClock.Instant? {
        guard let taken, let timeout = agent.healthTimeout, await agent.session?.sessionId == taken else { return nil }
        return lastHeartbeat.advanced(by: timeout)
    }

    /// Ends the session of a game server that took it and has been silent for the health timeout
    /// (its process exited): the host goes Terminating and is released.
    public func endSessionIfSilent() async {
        guard let deadline = await silenceDeadline(), clock.now >= deadline, let taken else { return }
        logger.info(
            "the GSDK game server holding the session stopped heartbeating: its session is ended",
            metadata: ["session_id": "\(taken)"])
        do {
            _ = try await agent.endSession()
            self.taken = nil
            saveTaken()
        } catch {
            logger.error("could not end the silent GSDK game server's session", metadata: ["error": "\(error.message)"])
        }
    }

    /// `gsdkinfo`: the SDK flavour and version, logged once per change.
    public func report(_ info: GSDKInfoReport) throws(AgentError) {
        guard !info.flavor.isEmpty, !info.version.isEmpty else {
            throw .malformed("Flavor and Version must not be empty")
        }
        if reportedSDK != info {
            reportedSDK = info
            logger.info(
                "GSDK game server connected", metadata: ["flavor": "\(info.flavor)", "version": "\(info.version)"])
        }
    }

    /// The SDK the game server last reported, if any.
    public var sdk: GSDKInfoReport? { reportedSDK }
}
