#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import ServiceLifecycle
import SessionHostModel

/// The VM's one drain, for every slot (docs/operations.md, "Drain a VM from the VM"):
///
/// - takes a drain from the socket (`POST /v1/drain`, source `local`) or from gsmsd
///   (`HostStatus.drain`), keeps the earliest deadline, saves it in `drain.json` before it
///   applies, and tells every slot (`HostAgent.applyDrain`): registrations and heartbeats carry
///   it, the game sees it in `GET /v1/host`, its events and the GSDK maintenance time;
/// - at the deadline ends every session still running, as if its game had ended it, and any
///   that arrives later, so that a drain always finishes;
/// - once no slot holds a session, reports the VM Drained (heartbeats, `STATUS=`, metrics, an
///   event) and starts `--on-drained` once per drain (recorded in `drain.json` first).
///
/// A drain is never taken back: a drained VM is removed. An agent restart keeps the drain it
/// had and never starts one. Times come from the injected clocks, so tests do not sleep.
public actor DrainCoordinator: Service {
    /// Every slot's agent, in slot order.
    public nonisolated let agents: [HostAgent]
    private let store: DrainStore?
    private let onDrained: OnDrainedCommand?
    /// With gsmsd: a slot whose ended session gsmsd has not heard of yet is not idle (until the
    /// deadline), so that gsmsd learns of every end before the VM goes.
    private let countsUnreportedEnds: Bool
    private let logger: Logger
    /// Times the deadline.
    private nonisolated let clock: any Clock<Duration>
    /// Makes and reads deadlines.
    private nonisolated let wallClock: WallClock
    private var record: DrainRecord?
    private var drained = false
    /// Fires when the drain changed.
    private let changed = WakeSignal()
    /// The `--on-drained` this agent process started, if any.
    private var onDrainedTask: Task<Void, Never>?
    /// Whether the log already said that `--on-drained` ran before this process started.
    private var toldAlreadyRan = false

    /// The longest the agent waits before it looks at the wall clock again: a deadline far away
    /// is met even if the wall clock is set meanwhile.
    static let longestSleep: Duration = .seconds(300)

    /// `record` is what `store` held at start (`DrainStore.load`).
    public init(
        agents: [HostAgent], store: DrainStore?, record: DrainRecord?, onDrained: OnDrainedCommand? = nil,
        countsUnreportedEnds: Bool = false, logger: Logger,
        clock: any Clock<Duration> = ContinuousClock(), wallClock: WallClock = .system
    ) {
        self.agents = agents
        self.store = store
        self.record = record
        self.onDrained = onDrained
        self.countsUnreportedEnds = countsUnreportedEnds
        self.logger = logger
        self.clock = clock
        self.wallClock = wallClock
    }

    /// The drain in force, if any.
    public var notice: DrainNotice? { record?.notice }

    /// Whether the VM is drained (draining, and every slot idle).
    public var isDrained: Bool { drained }

    // MARK: Taking a drain

    /// `POST /v1/drain`: a drain asked for on the VM, `deadlineSeconds` from now. A VM already
    /// draining keeps the earlier deadline. Answers the drain in force.
    @discardableResult
    public func requestLocalDrain(_ request: DrainCommandRequest) async throws(AgentError) -> DrainNotice {
        do {
            try request.validate()
        } catch {
            throw .badRequest(error)
        }
        let seconds = request.deadlineSeconds ?? DrainCommandRequest.defaultDeadlineSeconds
        let reason = request.reason.flatMap { $0.isEmpty ? nil : $0 }
        let notice = DrainNotice(
            deadline: DrainNotice.timestamp(wallClock.now.addingTimeInterval(Double(seconds))), source: .local,
            reason: reason)
        try await take(notice)
        return record?.notice ?? notice
    }

    /// A drain in gsmsd's answer (`HostStatus.drain`): taken when the VM has none, or when its
    /// deadline is earlier. One that is not valid, or cannot be saved, is logged and left (the
    /// next answer brings it again).
    public func adoptFromControlPlane(_ notice: DrainNotice) async {
        do {
            try notice.validate()
            try await take(notice)
        } catch let error as InvalidInput {
            logger.warning("ignoring a drain from gsmsd that is not valid", metadata: ["error": "\(error.message)"])
        } catch {
            logger.error("cannot save the drain gsmsd sent; it applies once it can", metadata: ["error": "\(error)"])
        }
    }

    /// Saves `notice` and tells every slot, unless the drain in force ends no later.
    private func take(_ notice: DrainNotice) async throws(AgentError) {
        guard let deadline = notice.deadlineDate else {
            throw .badRequest(
                InvalidInput(code: .invalidDrain, message: "drain deadline must be an ISO 8601 time"))
        }
        let reason: String
        var next: DrainRecord
        if let current = record {
            guard let currentDeadline = current.notice.deadlineDate, deadline < currentDeadline else { return }
            next = current
            next.notice = notice
            reason = "drain deadline moved earlier, to \(notice.deadline)"
        } else {
            next = DrainRecord(notice: notice)
            let who = notice.source == .local ? "on the VM" : "by the operator (gsmsd)"
            reason =
                "drain requested \(who): no new session; end the running one before \(notice.deadline)"
                + (notice.reason.map { " (\($0))" } ?? "")
        }
        try store?.save(next)
        record = next
        logger.notice(
            "the VM is draining",
            metadata: [
                "deadline": "\(notice.deadline)", "source": "\(notice.source.rawValue)",
                "reason": "\(notice.reason ?? "-")",
            ])
        for agent in agents { await agent.applyDrain(notice, reason: reason) }
        await changed.fire()
    }

    // MARK: The deadline and Drained

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.watch() }
    }

    /// Waits for a drain, then for its deadline or any slot's change: ends what runs after the
    /// deadline, and reports Drained when every slot is idle.
    private func watch() async {
        while !Task.isCancelled {
            let seenDrain = await changed.count
            var seen: [UInt64] = []
            for agent in agents { seen.append(await agent.recordChanged.count) }
            guard let current = record, let deadline = current.notice.deadlineDate else {
                await changed.wait(since: seenDrain)
                continue
            }
            let remaining = deadline.timeIntervalSince(wallClock.now)
            let deadlinePassed = remaining <= 0
            if deadlinePassed { await endRemainingSessions() }
            await updateDrained(deadlinePassed: deadlinePassed)
            let timeout =
                deadlinePassed ? nil : min(Self.longestSleep, .milliseconds(Int64((remaining * 1000).rounded(.up))))
            await waitForChange(since: seen, drainSince: seenDrain, timeout: timeout)
        }
    }

    /// Ends the session of every slot that still holds one.
    private func endRemainingSessions() async {
        for agent in agents {
            do {
                if try await agent.endSessionAtDrainDeadline() {
                    logger.notice(
                        "drain deadline passed: ended the session still running",
                        metadata: ["session_host_id": "\(agent.sessionHostId)"])
                }
            } catch {
                logger.error(
                    "drain deadline passed, but the session could not be ended; retrying at the next change",
                    metadata: ["session_host_id": "\(agent.sessionHostId)", "error": "\(error)"])
            }
        }
    }

    /// Drained when every slot is idle; starts `--on-drained` the first time for this drain.
    private func updateDrained(deadlinePassed: Bool) async {
        var idle = true
        for agent in agents
        where !(await agent.isIdle(countingUnreportedEnds: countsUnreportedEnds && !deadlinePassed)) {
            idle = false
            break
        }
        if idle != drained {
            drained = idle
            if idle {
                let idleText = agents.count == 1 ? "the slot is idle" : "all \(agents.count) slots idle"
                logger.notice("Drained: \(idleText); the VM can be removed", metadata: ["slots": "\(agents.count)"])
            }
            for agent in agents { await agent.setDrained(idle) }
        }
        guard idle, let onDrained, var current = record else { return }
        if let started = current.onDrainedStartedAt {
            if onDrainedTask == nil, !toldAlreadyRan {
                toldAlreadyRan = true
                logger.info(
                    "--on-drained already ran for this drain; not running it again",
                    metadata: ["started_at": "\(started)"])
            }
            return
        }
        current.onDrainedStartedAt = DrainNotice.timestamp(wallClock.now)
        do {
            try store?.save(current)
        } catch {
            logger.error(
                "cannot record that --on-drained runs; not running it until it can be recorded",
                metadata: ["error": "\(error)"])
            return
        }
        record = current
        let notice = current.notice
        onDrainedTask = Task { await onDrained.run(notice: notice) }
    }

    /// Waits until a slot changed after `seen`, the drain changed after `drainSince`, or
    /// `timeout` (on the agent's clock) passed.
    private func waitForChange(since seen: [UInt64], drainSince: UInt64, timeout: Duration?) async {
        let changed = self.changed
        let clock = self.clock
        await withTaskGroup(of: Void.self) { group in
            for (agent, count) in zip(agents, seen) {
                group.addTask { await agent.recordChanged.wait(since: count) }
            }
            group.addTask { await changed.wait(since: drainSince) }
            if let timeout {
                group.addTask { try? await clock.sleep(for: timeout) }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
