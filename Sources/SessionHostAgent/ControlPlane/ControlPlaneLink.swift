#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import ServiceLifecycle
import SessionHostModel

/// Keeps one slot (one `HostAgent`) and gsmsd in step (docs/control-plane-api.md), over the
/// agent's one `ControlPlaneChannel`:
///
/// - registers the host, then heartbeats at the interval gsmsd asks for and at once on every
///   state change, reconciling with gsmsd's answer (gsmsd is the source of truth for
///   assignments: a session it does not know is dropped, one the agent lost is taken back);
/// - takes the hand-offs the channel's held poll delivers for this host: saves each without
///   showing it to the game, acknowledges it, and shows it to the game only once gsmsd has
///   confirmed it;
/// - tells gsmsd when the game ended its session;
/// - deregisters on shutdown while StandingBy.
///
/// Every answer carries the host's assignment revision; an answer older than one already seen
/// (`RevisionFence`) is ignored, so a late answer never undoes a newer one. When gsmsd is
/// unreachable the agent keeps serving its socket and retries with exponential backoff and jitter.
struct ControlPlaneLink: Service, CustomStringConvertible {
    let agent: HostAgent
    let channel: ControlPlaneChannel
    let logger: Logger
    let metrics: AgentMetrics
    /// The newest assignment revision seen.
    let fence = RevisionFence()
    /// Takes the drain gsmsd's answers carry (`HostStatus.drain`); `nil`: ignored.
    var drains: DrainCoordinator? = nil

    private var client: ControlPlaneClient { channel.client }
    /// The hand-off channel came back after failing: heartbeat at once, so that gsmsd hears
    /// from the host without waiting for the backoff (a partition healed).
    private var channelRestored: WakeSignal { channel.restored }

    var description: String { "ControlPlaneLink(\(agent.sessionHostId), \(client))" }

    func run() async throws {
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.keepInStep() }
                    group.addTask { await self.receiveHandoffs() }
                    await group.waitForAll()
                }
            }
        } onGracefulShutdown: {
            logger.debug("control plane link stopping")
        }
        await deregisterIfIdle()
    }

    // MARK: Registration, heartbeats, reconciliation

    private func keepInStep() async {
        var registered = false
        var backoff = Backoff()
        var interval: Duration = .seconds(5)
        /// The kind of the failure last logged (its code, or unreachable): each new kind is
        /// logged once, and the recovery once.
        var failureLogged: String?
        while !Task.isCancelled {
            let seen = await agent.changeCount
            let restored = await channelRestored.count
            do throws(ControlPlaneError) {
                let status: HostStatus
                let basis: Int64?
                if registered {
                    try await reportEndedSession()
                    basis = await fence.newest
                    status = try await heartbeat(basis: basis)
                } else {
                    status = try await channel.sync(
                        HostSyncReport(sessionHostId: agent.sessionHostId, registration: await agent.registration()))
                    _ = await fence.admit(status.revision)
                    if let drain = status.drain { await drains?.adoptFromControlPlane(drain) }
                    registered = true
                    await agent.setControlPlaneStanding(ControlPlaneStanding(status: .registered))
                    if failureLogged != nil {
                        logger.notice("gsmsd accepted the host; it is in the pool again")
                        failureLogged = nil
                    }
                    logger.info("registered with gsmsd", metadata: ["state": "\(status.state.rawValue)"])
                    // The registration carries Initializing or StandingBy; the heartbeat says the rest.
                    continue
                }
                // A drain is never taken back, so even an answer older than one seen may bring it.
                if let drain = status.drain { await drains?.adoptFromControlPlane(drain) }
                await reconcile(with: status)
                interval = .milliseconds(Int64(max(200, min(status.heartbeatIntervalMilliseconds, 60_000))))
                backoff.reset()
                await agent.setControlPlaneStanding(ControlPlaneStanding(status: .registered))
                if failureLogged != nil {
                    logger.notice("gsmsd has this host again; it is back in the pool")
                    failureLogged = nil
                }
                // gsmsd took a report made before the host's assignment last changed as a sign
                // of life only: report again now that the agent knows the change.
                if let basis, let revision = status.revision, basis < revision { continue }
                // The next periodic beat falls due with every other slot's (one sync for all).
                await waitForChange(
                    since: seen, orRestoredSince: restored, timeout: channel.untilNextBeat(interval: interval))
            } catch {
                if error.isUnknownHost {
                    registered = false
                    continue
                }
                let wait = backoff.next()
                let standing = Self.standing(after: error, endpoint: client.endpoint, titleId: agent.identity.titleId)
                await agent.setControlPlaneStanding(standing)
                let kind = standing.code ?? standing.status.rawValue
                if failureLogged != kind {
                    failureLogged = kind
                    let metadata: Logger.Metadata = ["error": "\(error)", "retry_in": "\(wait)"]
                    if standing.status == .refused {
                        logger.error(
                            "gsmsd refused this host, which is not in the pool: \(standing.message ?? "")",
                            metadata: metadata)
                    } else {
                        logger.warning("not in gsmsd's pool: \(standing.message ?? ""); retrying", metadata: metadata)
                    }
                }
                await waitForChange(since: nil, orRestoredSince: restored, timeout: wait)
            }
        }
    }

    /// What a failed registration or heartbeat says about the host's standing, in words that
    /// say what to do.
    static func standing(after error: ControlPlaneError, endpoint: ControlPlaneEndpoint, titleId: String)
        -> ControlPlaneStanding
    {
        guard let status = error.status else {
            return ControlPlaneStanding(
                status: .unreachable,
                message:
                    "cannot reach gsmsd at \(endpoint) (\(error.message)); check --control-plane and that gsmsd runs")
        }
        guard error.isRefusal else {
            return ControlPlaneStanding(
                status: .unreachable, message: "gsmsd at \(endpoint) answered \(status) \(error.code): \(error.message)"
            )
        }
        let advice: String
        switch error.code {
        case .invalidAgentToken, .missingAgentToken, .malformedAuthorization:
            advice =
                "the fleet secret was refused: --agent-token-file must hold the same secret as gsmsd's --agent-token-file"
        case .titleNotSubscribed:
            advice = "gsmsd has no subscription for title \(titleId): add it to gsmsd's --title list, or fix --title-id"
        case .hostKeyMismatch:
            advice =
                "gsmsd has this host id bound to another agent's host key: another machine may use this host id (give each its own --host-id), or the host-key file was lost (docs/control-plane-api.md, Host keys)"
        default:
            advice = error.message
        }
        return ControlPlaneStanding(status: .refused, code: error.code.rawValue, message: advice)
    }

    /// Waits for `timeout`, or less: until the host changed after `seen` (when given), or the
    /// hand-off channel was restored after `restored`.
    private func waitForChange(since seen: UInt64?, orRestoredSince restored: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                if let seen {
                    await agent.waitForChange(since: seen, timeout: timeout)
                } else {
                    try? await Task.sleep(for: timeout)
                }
            }
            group.addTask { await channelRestored.wait(since: restored) }
            await group.next()
            group.cancelAll()
        }
    }

    /// One heartbeat based on the newest revision seen, counted in the metrics.
    private func heartbeat(basis: Int64?) async throws(ControlPlaneError) -> HostStatus {
        do throws(ControlPlaneError) {
            var report = await agent.heartbeatReport()
            report.revision = basis
            let status = try await channel.sync(HostSyncReport(sessionHostId: agent.sessionHostId, heartbeat: report))
            metrics.controlPlaneHeartbeat(succeeded: true)
            return status
        } catch {
            metrics.controlPlaneHeartbeat(succeeded: false)
            throw error
        }
    }

    /// gsmsd decides which session the host holds; an answer older than one already seen says
    /// nothing.
    private func reconcile(with status: HostStatus) async {
        guard await fence.admit(status.revision) else {
            logger.debug(
                "ignoring an answer older than one already seen", metadata: ["revision": "\(status.revision ?? 0)"])
            return
        }
        let local = await agent.session
        let waiting = await agent.unconfirmedHandoff
        if let ended = await agent.unreportedEnd, ended == status.sessionId { return } // told at the next beat
        let assigned = status.sessionId
        do {
            // A waiting hand-off gsmsd no longer has for this host: the game never saw it. Only
            // an answer newer than the hand-off says so (the fence alone does not: the hand-off
            // may have been taken while this answer was being looked at).
            if let waiting, waiting.sessionId != assigned, waiting.isSuperseded(by: status.revision) {
                await agent.forgetUnconfirmed(sessionId: waiting.sessionId)
            }
            // A session gsmsd does not assign to this host (by an answer newer than the one that
            // gave it): dropped.
            if let held = local, held.sessionId != assigned, held.isSuperseded(by: status.revision) {
                logger.warning(
                    "gsmsd does not assign this host's session; dropping it",
                    metadata: ["session_id": "\(held.sessionId)", "gsmsd_session_id": "\(assigned ?? "-")"])
                try await agent.drop(
                    sessionId: held.sessionId,
                    reason:
                        "the session was shut down by the allocation service (gsmsd no longer assigns it to this host)"
                )
            }
            // A session gsmsd has confirmed for this host that the game does not see yet: the
            // acknowledgement's answer was lost, or the agent restarted, or lost its state.
            if let assigned, status.state == .active, local?.sessionId != assigned {
                if await agent.confirm(sessionId: assigned, revision: status.revision) {
                    logger.info("gsmsd confirmed the hand-off", metadata: ["session_id": "\(assigned)"])
                } else {
                    logger.warning(
                        "gsmsd says this host holds a session the agent lost; taking it back",
                        metadata: ["session_id": "\(assigned)"])
                    try await agent.adopt(
                        SessionRecord(
                            sessionId: assigned, sessionCookie: status.sessionCookie,
                            allocatedAt: status.allocatedAt ?? "",
                            revision: status.revision))
                }
            }
        } catch {
            logger.error("cannot reconcile with gsmsd", metadata: ["error": "\(error)"])
        }
    }

    /// Tells gsmsd about a session the game ended, until it has heard.
    private func reportEndedSession() async throws(ControlPlaneError) {
        guard let sessionId = await agent.unreportedEnd else { return }
        do {
            let status = try await client.endSession(hostId: agent.sessionHostId, sessionId: sessionId)
            _ = await fence.admit(status.revision)
        } catch  where error.isRefusal {
            // gsmsd no longer has it on this host: nothing left to report.
            logger.notice(
                "gsmsd did not have the ended session on this host",
                metadata: ["session_id": "\(sessionId)", "error": "\(error)"])
        }
        do {
            try await agent.endReported(sessionId: sessionId)
        } catch {
            logger.error("cannot save that the session end was reported", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Hand-offs

    /// Takes the hand-offs the channel delivers for this host, one at a time.
    private func receiveHandoffs() async {
        for await handoff in channel.handoffs(for: agent.sessionHostId) {
            await take(handoff)
            await channel.handoffDone(sessionId: handoff.sessionId)
        }
    }

    /// Saves the hand-off without showing it to the game, acknowledges it until its deadline,
    /// and shows it to the game only once gsmsd has confirmed it.
    private func take(_ handoff: Handoff) async {
        guard await fence.admit(handoff.revision) else {
            logger.notice(
                "ignoring a hand-off older than an answer already seen",
                metadata: ["session_id": "\(handoff.sessionId)"])
            return
        }
        logger.info(
            "hand-off received; acknowledging it before the game sees it",
            metadata: ["session_id": "\(handoff.sessionId)", "acknowledge_by": "\(handoff.acknowledgeBy)"])
        do {
            try await agent.reserve(handoff)
        } catch {
            logger.error(
                "cannot take the hand-off", metadata: ["session_id": "\(handoff.sessionId)", "error": "\(error)"])
            metrics.handoffEnded(.notSaved)
            return // not acknowledged: gsmsd moves on to another host
        }
        let deadline = ContinuousClock.now + handoff.acknowledgementWindow
        var backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(500))
        var attempts = 0
        while !Task.isCancelled {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { break }
            attempts += 1
            do throws(ControlPlaneError) {
                let status = try await client.acknowledge(
                    hostId: agent.sessionHostId, sessionId: handoff.sessionId, timeout: remaining.timeAmount)
                _ = await fence.admit(status.revision)
                if await agent.confirm(sessionId: handoff.sessionId, revision: status.revision) {
                    logger.info("hand-off acknowledged", metadata: ["session_id": "\(handoff.sessionId)"])
                } else {
                    // Given up meanwhile by a reconciliation: gsmsd's record decides (heartbeat).
                    logger.notice(
                        "hand-off confirmed after it was forgotten; reconciling",
                        metadata: ["session_id": "\(handoff.sessionId)"])
                }
                metrics.handoffEnded(.acknowledged)
                return
            } catch  where error.isRefusal {
                logger.warning(
                    "gsmsd refused the acknowledgement; the game never saw the session",
                    metadata: ["session_id": "\(handoff.sessionId)", "error": "\(error)"])
                await agent.forgetUnconfirmed(sessionId: handoff.sessionId)
                metrics.handoffEnded(.refused)
                return
            } catch {
                // No answer: send it again (it is idempotent) until the deadline.
                let left = deadline - ContinuousClock.now
                if left > .zero { try? await Task.sleep(for: min(backoff.next(), left)) }
            }
        }
        logger.warning(
            "gsmsd did not answer the acknowledgement before the hand-off's deadline; giving the hand-off up (the game never saw it). If gsmsd did confirm it, the next heartbeat's answer gives it back",
            metadata: [
                "session_id": "\(handoff.sessionId)", "acknowledge_by": "\(handoff.acknowledgeBy)",
                "attempts": "\(attempts)",
            ])
        await agent.forgetUnconfirmed(sessionId: handoff.sessionId)
        metrics.handoffEnded(.abandoned)
    }

    // MARK: Shutdown

    private func deregisterIfIdle() async {
        let state = await agent.state
        guard await agent.session == nil, state == .standingBy || state == .initializing else { return }
        do {
            try await client.deregister(hostId: agent.sessionHostId)
            logger.info("deregistered from gsmsd")
        } catch {
            logger.warning("could not deregister from gsmsd", metadata: ["error": "\(error)"])
        }
    }
}

extension Handoff {
    /// How long gsmsd waits for the acknowledgement: `acknowledgeBy − allocatedAt`, both gsmsd's
    /// clock, so no clock of this machine is compared with gsmsd's. Counted from when the agent
    /// read the hand-off, which is after gsmsd's start: the agent never gives up before gsmsd
    /// would. 5 s when the times cannot be read.
    var acknowledgementWindow: Duration {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        func parse(_ text: String) -> Date? { (try? style.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text)) }
        guard let start = parse(allocatedAt), let end = parse(acknowledgeBy) else { return .seconds(5) }
        let seconds = min(max(end.timeIntervalSince(start), 0.05), 300)
        return .milliseconds(Int64(seconds * 1000))
    }
}

extension Duration {
    /// The duration as NIO's `TimeAmount` (at least a millisecond).
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(max(1_000_000, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }
}
