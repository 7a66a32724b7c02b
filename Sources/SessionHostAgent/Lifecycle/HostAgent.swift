#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import SessionHostModel
import Synchronization

/// The agent's state: the lifecycle, saved before every change is acknowledged, and the
/// listeners (event streams, long polls, the health monitor) woken the moment it changes.
public actor HostAgent {
    public nonisolated let sessionHostId: String
    public nonisolated let identity: HostIdentity
    public nonisolated let healthTimeout: Duration?

    private var lifecycle: HostLifecycle {
        didSet {
            if lifecycle.state != oldValue.state { stateSnapshot.withLock { $0 = lifecycle.state } }
            if lifecycle.session?.sessionId != oldValue.session?.sessionId, players != nil {
                players = nil // players belong to one session; the next starts with none
            }
            if lifecycle.state != oldValue.state || lifecycle.session != oldValue.session { updateSessionSnapshot() }
        }
    }
    /// The state, for readers that must not wait for the actor (`GET /v1/host`).
    private nonisolated let stateSnapshot: Mutex<HostState>
    /// What `GET /v1/session` answers, for readers that must not wait for the actor (a woken
    /// `?wait=` answers while the actor may still be writing the state file).
    private nonisolated let sessionSnapshot: Mutex<SessionInfo>
    /// Whether gsmsd has the host, for readers that must not wait for the actor.
    private nonisolated let controlPlaneSnapshot: Mutex<ControlPlaneStanding>
    /// The VM's drain as the `DrainCoordinator` last set it, for readers that must not wait.
    private nonisolated let drainSnapshot: Mutex<DrainStanding>
    /// Fires when what `statusText()` says changed for another reason than a state change.
    let statusChanged = WakeSignal()
    private let store: AgentStateStore
    private let logger: Logger
    /// Times the health timeout and the waits.
    private nonisolated let clock: any Clock<Duration>
    /// Dates the events and the standing with gsmsd.
    private nonisolated let wallClock: WallClock
    private var lastSignOfLife: ClockInstant
    /// The players the game last reported for the current session; reports made without a
    /// session are not kept.
    private var players: [Player]? {
        didSet { updateSessionSnapshot() }
    }
    private var latestEvent: HostEvent
    private var subscribers: [Int: AsyncStream<HostEvent>.Continuation] = [:]
    private var nextSubscriberID = 0
    /// A change made with `changeSavingAfterwards` is not written yet.
    private var unsaved = false

    /// Loads the saved state (or starts afresh) and saves it back, so that a state directory
    /// that cannot be written is found at startup rather than at the first hand-off.
    /// `clock` times the health timeout and the waits; `wallClock` dates the events.
    public init(
        identity: HostIdentity,
        configuredHostId: String?,
        derivedHostId: @Sendable () -> String,
        healthTimeout: Duration?,
        controlPlane: ControlPlaneStanding = .local,
        store: AgentStateStore,
        logger: Logger,
        clock: any Clock<Duration> = ContinuousClock(),
        wallClock: WallClock = .system,
        drain: DrainNotice? = nil
    ) throws(AgentError) {
        try store.prepare()
        let (saved, warning) = try store.load()
        if let warning { logger.error("\(warning)") }
        let hostId = configuredHostId ?? saved?.sessionHostId ?? derivedHostId()
        var record = saved ?? AgentStateRecord(sessionHostId: hostId)
        record.sessionHostId = hostId
        record.format = AgentStateRecord.currentFormat
        try store.save(record)

        self.sessionHostId = hostId
        self.identity = identity
        self.healthTimeout = healthTimeout
        self.lifecycle = HostLifecycle(record: record)
        self.stateSnapshot = Mutex(record.state)
        self.controlPlaneSnapshot = Mutex(controlPlane)
        self.drainSnapshot = Mutex(DrainStanding(notice: drain))
        self.sessionSnapshot = Mutex(Self.sessionInfo(HostLifecycle(record: record), players: nil))
        self.store = store
        self.logger = Self.identified(logger, sessionHostId: hostId, titleId: identity.titleId)
        self.clock = clock
        self.wallClock = wallClock
        self.lastSignOfLife = clock.instant()
        self.latestEvent = HostEvent(
            sequence: 0, state: record.state, sessionId: record.session?.sessionId,
            at: Self.timestamp(wallClock.now),
            reason: saved == nil ? "agent started" : "agent restarted with saved state")
        self.latestEvent.drain = drain
    }

    // MARK: Reading

    public var state: HostState { lifecycle.state }

    /// The state as of the last change, read without waiting for the actor.
    public nonisolated var currentState: HostState { stateSnapshot.withLock { $0 } }

    public func hostInfo() -> HostInfo {
        hostInfo(in: lifecycle.state)
    }

    /// What `GET /v1/host` shows while the host is in `state`: everything else never changes.
    public nonisolated func hostInfo(in state: HostState) -> HostInfo {
        hostInfo(in: state, controlPlane: controlPlaneStanding)
    }

    /// What `GET /v1/host` shows while the host is in `state` with that standing with gsmsd.
    public nonisolated func hostInfo(in state: HostState, controlPlane: ControlPlaneStanding) -> HostInfo {
        hostInfo(in: state, controlPlane: controlPlane, drain: drainStanding.notice)
    }

    /// What `GET /v1/host` shows while the host is in `state`, with that standing with gsmsd and
    /// that drain.
    public nonisolated func hostInfo(in state: HostState, controlPlane: ControlPlaneStanding, drain: DrainNotice?)
        -> HostInfo
    {
        var info = HostInfo(
            sessionHostId: sessionHostId, titleId: identity.titleId, hostName: identity.hostName,
            region: identity.region, portMappings: identity.ports.map(\.mapping),
            secureContext: identity.secureContext, state: state,
            sandboxId: identity.sandboxId, cloudGameId: identity.cloudGameId, gameModeId: identity.gameModeId,
            controlPlane: controlPlane)
        info.drain = drain
        return info
    }

    /// The VM's drain and whether it is drained, as last set; read without waiting for the actor.
    public nonisolated var drainStanding: DrainStanding { drainSnapshot.withLock { $0 } }

    /// The drain in force on the VM, if any; read without waiting for the actor.
    public nonisolated var drain: DrainNotice? { drainStanding.notice }

    /// The VM is draining (a new drain, or an earlier deadline): `GET /v1/host` shows it, and an
    /// event with `reason` tells the game; every later event carries it.
    public func applyDrain(_ notice: DrainNotice, reason: String) {
        let changed = drainSnapshot.withLock { standing -> Bool in
            guard standing.notice != notice else { return false }
            standing = DrainStanding(notice: notice, drained: standing.drained)
            return true
        }
        if changed { publish(reason: reason) }
    }

    /// Whether every slot of the draining VM is idle; an event says so when it changes (and
    /// wakes the heartbeat to gsmsd, which carries `drained`).
    public func setDrained(_ drained: Bool) {
        let changed = drainSnapshot.withLock { standing -> Bool in
            guard standing.notice != nil, standing.drained != drained else { return false }
            standing.drained = drained
            return true
        }
        guard changed else { return }
        publish(
            reason: drained
                ? "drained: every slot of the VM is idle; the VM can be removed"
                : "no longer drained: a slot of the VM holds a session")
    }

    /// Whether the host holds no session: none Allocating or Active, no hand-off waiting for
    /// gsmsd's confirmation and, with `countingUnreportedEnds`, no ended session gsmsd has not
    /// heard of.
    public func isIdle(countingUnreportedEnds: Bool) -> Bool {
        let record = lifecycle.record
        return record.session == nil && record.unconfirmedHandoff == nil
            && (!countingUnreportedEnds || record.unreportedEnd == nil)
    }

    /// The drain's deadline passed: the agent ends the session still running, as if the game had
    /// ended it (the host goes Terminating and gsmsd is told). False when there is none.
    @discardableResult
    public func endSessionAtDrainDeadline() throws(AgentError) -> Bool {
        guard lifecycle.session != nil else { return false }
        try change(reason: "drain deadline passed: the agent ended the session") {
            (lifecycle: inout HostLifecycle) throws(AgentError) in
            try lifecycle.endSession()
        }
        return true
    }

    /// Whether gsmsd has the host, as last learned; read without waiting for the actor.
    public nonisolated var controlPlaneStanding: ControlPlaneStanding { controlPlaneSnapshot.withLock { $0 } }

    /// Records what the agent learned about its standing with gsmsd; true when it changed
    /// (then `STATUS=` and `GET /v1/host` say so).
    @discardableResult
    public func setControlPlaneStanding(_ standing: ControlPlaneStanding) async -> Bool {
        let changed = controlPlaneSnapshot.withLock { current -> Bool in
            guard !current.sameStanding(as: standing) else { return false }
            current = standing
            if current.since == nil { current.since = timestamp() }
            return true
        }
        if changed { await statusChanged.fire() }
        return changed
    }

    /// What `GET /v1/session` answers, as of the last change; read without waiting for the actor.
    public nonisolated func sessionInfo() -> SessionInfo {
        sessionSnapshot.withLock { $0 }
    }

    private func updateSessionSnapshot() {
        let info = Self.sessionInfo(lifecycle, players: players)
        sessionSnapshot.withLock { $0 = info }
    }

    private static func sessionInfo(_ lifecycle: HostLifecycle, players: [Player]?) -> SessionInfo {
        let session = lifecycle.session
        return SessionInfo(
            state: lifecycle.state, sessionId: session?.sessionId, sessionCookie: session?.sessionCookie,
            allocatedAt: session?.allocatedAt, players: session == nil ? nil : players)
    }

    /// `STATUS=` text for systemd, in words; ends with why the host is not in gsmsd's pool
    /// when gsmsd refused it or cannot be reached.
    public func statusText() -> String {
        let standing = controlPlaneStanding
        switch standing.status {
        case .refused:
            return stateText() + "; not in gsmsd's pool: refused (\(standing.code ?? "?")): \(standing.message ?? "")"
        case .unreachable:
            return stateText() + "; not in gsmsd's pool: \(standing.message ?? "gsmsd cannot be reached")"
        case .local, .connecting, .registered:
            return stateText()
        }
    }

    private func stateText() -> String {
        let title = identity.titleId.isEmpty ? "" : "title \(identity.titleId), "
        switch lifecycle.state {
        case .initializing:
            return "Initializing: waiting for the game server to call ready"
        case .standingBy:
            return "StandingBy (\(title)region \(identity.region))"
        case .allocating:
            return "Allocating session \(lifecycle.session?.sessionId ?? "?")"
        case .active:
            let titleSuffix = identity.titleId.isEmpty ? "" : " (title \(identity.titleId))"
            return "Active session \(lifecycle.session?.sessionId ?? "?")\(titleSuffix)"
        case .terminating:
            return "Terminating: session ended, waiting for the game server to call ready"
        case .unhealthy:
            let session = lifecycle.session.map { ", holding session \($0.sessionId)" } ?? ""
            return "Unhealthy: \(latestEvent.reason ?? "the game server is not healthy")\(session)"
        }
    }

    // MARK: Changes

    /// `POST /v1/ready`.
    public func ready() throws(AgentError) -> SessionInfo {
        lastSignOfLife = clock.instant()
        try change(reason: "game called ready") { (lifecycle: inout HostLifecycle) throws(AgentError) in
            try lifecycle.ready()
        }
        return sessionInfo()
    }

    /// `POST /v1/heartbeat`.
    public func heartbeat(_ request: HeartbeatRequest) throws(AgentError) -> SessionInfo {
        lastSignOfLife = clock.instant()
        if let reported = request.players, lifecycle.session != nil { players = reported }
        let reason = request.health == .unhealthy ? "game reported Unhealthy" : "game is healthy again"
        try change(reason: reason) { (lifecycle: inout HostLifecycle) throws(AgentError) in
            lifecycle.heartbeat(health: request.health)
        }
        return sessionInfo()
    }

    /// A hand-off of `sessionId` with its cookie; saved before it is acknowledged.
    public func allocate(_ request: AllocationRequest) throws(AgentError) -> SessionInfo {
        if let notice = drain {
            throw AgentError(
                .conflict, code: .draining,
                message: "the VM is draining (deadline \(notice.deadline)): it takes no new session")
        }
        let time = timestamp()
        try change(reason: "session allocated") { (lifecycle: inout HostLifecycle) throws(AgentError) in
            try lifecycle.allocate(sessionId: request.sessionId, cookie: request.sessionCookie, at: time)
        }
        lastSignOfLife = clock.instant()
        return sessionInfo()
    }

    /// A hand-off from gsmsd, saved before the agent acknowledges it but not shown to the game
    /// (see `HostLifecycle.reserve`). Throws when it cannot be saved: then it is not acknowledged.
    public func reserve(_ handoff: Handoff) throws(AgentError) {
        try change(reason: "hand-off received from gsmsd") { (lifecycle: inout HostLifecycle) throws(AgentError) in
            try lifecycle.reserve(handoff)
        }
    }

    /// gsmsd confirmed `sessionId` for this host: the game sees it (`GET /v1/session` answers
    /// it, waiting requests and event streams wake). False when no such hand-off waits.
    ///
    /// The change applies even when it cannot be saved: the title already has its 200, and the
    /// saved waiting hand-off plus gsmsd's record give it back after a restart.
    public func confirm(sessionId: String, revision: Int64?) -> Bool {
        var confirmed = false
        changeSavingAfterwards(reason: "session handed over by gsmsd") { lifecycle in
            confirmed = lifecycle.confirm(sessionId: sessionId, revision: revision)
        }
        if confirmed { lastSignOfLife = clock.instant() }
        return confirmed
    }

    /// Forgets the waiting hand-off of `sessionId` (refused by gsmsd, or given up).
    public func forgetUnconfirmed(sessionId: String) {
        changeSavingAfterwards(reason: "hand-off given up") { lifecycle in
            lifecycle.forgetUnconfirmed(sessionId: sessionId)
        }
    }

    /// The hand-off saved but not yet confirmed by gsmsd, if any.
    public var unconfirmedHandoff: SessionRecord? { lifecycle.record.unconfirmedHandoff }

    /// gsmsd refused or does not know `sessionId`: the host drops it and goes Terminating.
    public func drop(sessionId: String, reason: String) throws(AgentError) {
        try change(reason: reason) { (lifecycle: inout HostLifecycle) throws(AgentError) in
            lifecycle.drop(sessionId: sessionId)
        }
    }

    /// gsmsd says this host holds `session`, which the agent had lost: it takes it back.
    public func adopt(_ session: SessionRecord) throws(AgentError) {
        try change(reason: "session restored from gsmsd") { (lifecycle: inout HostLifecycle) throws(AgentError) in
            lifecycle.adopt(session)
        }
    }

    /// gsmsd has been told that the game ended `sessionId`.
    public func endReported(sessionId: String) throws(AgentError) {
        try change(reason: "session end reported to gsmsd") { (lifecycle: inout HostLifecycle) throws(AgentError) in
            lifecycle.endReported(sessionId: sessionId)
        }
    }

    /// The session the game ended that gsmsd has not heard of yet.
    public var unreportedEnd: String? { lifecycle.record.unreportedEnd }

    /// What gsmsd is told when the agent registers.
    public func registration() -> HostRegistration {
        HostRegistration(
            titleId: identity.titleId, region: identity.region, hostName: identity.hostName,
            portMappings: identity.ports.map(\.mapping), secureContext: identity.secureContext,
            sandboxId: identity.sandboxId, cloudGameId: identity.cloudGameId, gameModeId: identity.gameModeId,
            vmId: identity.vmId, state: lifecycle.state == .standingBy ? .standingBy : .initializing,
            health: lifecycle.state == .unhealthy ? .unhealthy : .healthy, drain: drain)
    }

    /// What gsmsd is told in each heartbeat.
    public func heartbeatReport() -> HostHeartbeat {
        let standing = drainStanding
        return HostHeartbeat(
            state: lifecycle.state, sessionId: lifecycle.session?.sessionId,
            health: lifecycle.state == .unhealthy ? .unhealthy : .healthy,
            drain: standing.notice, drained: standing.drained ? true : nil,
            players: lifecycle.session == nil ? nil : Self.reportable(players))
    }

    /// The players gsmsd is shown: those gsmsd accepts (an id of 1 to 256 bytes), at most
    /// `HostHeartbeat.maximumPlayers`; `nil` when there are none, so the heartbeat is as before.
    static func reportable(_ players: [Player]?) -> [Player]? {
        guard let players else { return nil }
        let valid = players.lazy.filter { !$0.playerId.isEmpty && $0.playerId.utf8.count <= 256 }
            .prefix(HostHeartbeat.maximumPlayers)
        return valid.isEmpty ? nil : Array(valid)
    }

    /// The current session, if any.
    public var session: SessionRecord? { lifecycle.session }

    /// Counts the changes of state or session; read it before looking, then wait for a change
    /// since that count, so that no change between the look and the wait is missed.
    public var changeCount: UInt64 { latestEvent.sequence }

    /// Fires on every change of the host's record, also those the game does not see as an
    /// event (e.g. gsmsd heard of an ended session): what the drain coordinator waits on.
    let recordChanged = WakeSignal()

    /// Waits until the host's state or session changed after `seen` (a `changeCount`), or
    /// `timeout` passes.
    public func waitForChange(since seen: UInt64, timeout: Duration) async {
        if latestEvent.sequence > seen { return }
        let events = events(bufferingNewest: 1)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in events where event.sequence > seen { return }
            }
            group.addTask { [clock] in
                try? await clock.sleep(for: timeout)
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// `POST /v1/session/end`.
    public func endSession() throws(AgentError) -> SessionInfo {
        try change(reason: "game ended its session") { (lifecycle: inout HostLifecycle) throws(AgentError) in
            try lifecycle.endSession()
        }
        return sessionInfo()
    }

    /// When the health monitor should next look, or `nil` when the host is not monitored.
    public func healthDeadline() -> ClockInstant? {
        guard let healthTimeout, HostLifecycle.monitoredStates.contains(lifecycle.state) else { return nil }
        return lastSignOfLife.advanced(by: healthTimeout)
    }

    /// Makes the host Unhealthy if the game has been silent for the health timeout.
    public func expireHealthIfDue() {
        guard let deadline = healthDeadline(), deadline.hasPassed, let healthTimeout else { return }
        let seconds = Double(healthTimeout.components.seconds) + Double(healthTimeout.components.attoseconds) / 1e18
        let reason = "no heartbeat from the game server for \(Self.formatSeconds(seconds))"
        do {
            try change(reason: reason) { (lifecycle: inout HostLifecycle) throws(AgentError) in
                lifecycle.heartbeatsMissed()
            }
        } catch {
            logger.error("could not mark the host Unhealthy", metadata: ["error": "\(error)"])
        }
    }

    /// Applies a transition: saves the new record durably first (nothing changes when that
    /// fails), then publishes an event when the state or session changed.
    private func change(
        reason: String,
        _ transition: (inout HostLifecycle) throws(AgentError) -> Void
    ) throws(AgentError) {
        var next = lifecycle
        try transition(&next)
        guard next != lifecycle else { return }
        do {
            try store.save(next.record)
        } catch {
            logger.error("state not saved; the change is refused", metadata: ["error": "\(error.message)"])
            throw error
        }
        unsaved = false
        apply(next, reason: reason)
    }

    /// Applies a transition and publishes it at once; the record is written afterwards, without
    /// waiting for the disk, and a failure is only logged. For facts gsmsd keeps too, which
    /// reconciliation restores after a crash.
    private func changeSavingAfterwards(reason: String, _ transition: (inout HostLifecycle) -> Void) {
        var next = lifecycle
        transition(&next)
        guard next != lifecycle else { return }
        unsaved = true
        Task { self.saveIfUnsaved() } // a later turn of this actor, after the waiting requests it woke
        apply(next, reason: reason)
    }

    private func apply(_ next: HostLifecycle, reason: String) {
        let previous = lifecycle
        lifecycle = next
        let recordChanged = self.recordChanged
        Task { await recordChanged.fire() }
        if previous.state != next.state || previous.session != next.session {
            publish(reason: reason)
        }
    }

    /// Writes the record of a change made with `.afterwards`, unless a later change saved it.
    private func saveIfUnsaved() {
        guard unsaved else { return }
        unsaved = false
        do {
            try store.save(lifecycle.record, durable: false)
        } catch {
            logger.error("state not saved; the change applies in memory", metadata: ["error": "\(error.message)"])
        }
    }

    // MARK: Listening

    /// A stream of state changes that starts with the current state.
    public func events(bufferingNewest limit: Int = 64) -> AsyncStream<HostEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: HostEvent.self, bufferingPolicy: .bufferingNewest(limit))
        let id = nextSubscriberID
        nextSubscriberID += 1
        subscribers[id] = continuation
        continuation.yield(currentEvent())
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(id) }
        }
        return stream
    }

    /// Waits until the host holds a session or `timeout` passes, then answers like `GET /v1/session`.
    public nonisolated func waitForSession(timeout: Duration) async -> SessionInfo {
        let current = sessionInfo()
        if current.sessionId != nil || timeout <= .zero { return current }
        // The stream starts with the current event: a session that came since is not missed.
        let events = await events(bufferingNewest: 1)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in events where event.sessionId != nil { return }
            }
            group.addTask { [clock] in
                try? await clock.sleep(for: timeout)
            }
            await group.next()
            group.cancelAll()
        }
        return sessionInfo()
    }

    /// Ends every event stream (on shutdown).
    public func finishListeners() {
        for continuation in subscribers.values { continuation.finish() }
        subscribers.removeAll()
    }

    private func unsubscribe(_ id: Int) {
        subscribers[id] = nil
    }

    private func currentEvent() -> HostEvent {
        var event = latestEvent
        event.state = lifecycle.state
        event.sessionId = lifecycle.session?.sessionId
        return event
    }

    private func publish(reason: String) {
        latestEvent = HostEvent(
            sequence: latestEvent.sequence + 1, state: lifecycle.state,
            sessionId: lifecycle.session?.sessionId, at: timestamp(), reason: reason)
        latestEvent.drain = drain
        var metadata: Logger.Metadata = ["reason": "\(reason)"]
        // Only with a session: the journal's SESSION_ID field then finds exactly its entries.
        if let sessionId = lifecycle.session?.sessionId { metadata["session_id"] = "\(sessionId)" }
        logger.info("host is \(lifecycle.state.rawValue)", metadata: metadata)
        for continuation in subscribers.values {
            continuation.yield(latestEvent)
        }
    }

    // MARK: Helpers

    /// `logger` with the host's id and title as metadata, so that every entry the agent logs
    /// carries them (the journal's SESSION_HOST_ID and TITLE_ID fields).
    public static func identified(_ logger: Logger, sessionHostId: String, titleId: String) -> Logger {
        var logger = logger
        logger[metadataKey: "session_host_id"] = .string(sessionHostId)
        if !titleId.isEmpty { logger[metadataKey: "title_id"] = .string(titleId) }
        return logger
    }

    /// Now on the wall clock, as events and the standing with gsmsd show it.
    private nonisolated func timestamp() -> String {
        Self.timestamp(wallClock.now)
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func formatSeconds(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }
}
