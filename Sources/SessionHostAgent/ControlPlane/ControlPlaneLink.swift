#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import ServiceLifecycle
import SessionHostModel

/// Keeps the agent and gsmsd in step (docs/control-plane-api.md):
///
/// - registers the host, then heartbeats at the interval gsmsd asks for and at once on every
///   state change, reconciling with gsmsd's answer (gsmsd is the source of truth for
///   assignments: a session it does not know is dropped, one the agent lost is taken back);
/// - while StandingBy, holds a request for the next hand-off, saves it (which wakes the game's
///   waiting `GET /v1/session?wait=`) and only then acknowledges it;
/// - tells gsmsd when the game ended its session;
/// - deregisters on shutdown while StandingBy.
///
/// When gsmsd is unreachable the agent keeps serving its socket and retries with exponential
/// backoff and jitter.
struct ControlPlaneLink: Service, CustomStringConvertible {
    let agent: HostAgent
    let client: ControlPlaneClient
    let logger: Logger
    let metrics: AgentMetrics
    /// Makes sure each hand-off is acknowledged once, by `take` or by `reconcile`.
    let acknowledgements = AcknowledgementLedger()

    var description: String { "ControlPlaneLink(\(client))" }

    /// How long one held hand-off request lasts.
    static let handoffWaitSeconds = 30

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
        await client.shutdown()
    }

    // MARK: Registration, heartbeats, reconciliation

    private func keepInStep() async {
        var registered = false
        var backoff = Backoff()
        var interval: Duration = .seconds(5)
        var reportedUnreachable = false
        while !Task.isCancelled {
            let seen = await agent.changeCount
            do throws(ControlPlaneError) {
                let status: HostStatus
                if registered {
                    try await reportEndedSession()
                    status = try await heartbeat()
                } else {
                    status = try await client.register(await agent.registration())
                    registered = true
                    logger.info("registered with gsmsd", metadata: ["state": "\(status.state.rawValue)"])
                    // The registration carries Initializing or StandingBy; the heartbeat says the rest.
                    continue
                }
                await reconcile(with: status)
                interval = .milliseconds(Int64(max(200, min(status.heartbeatIntervalMilliseconds, 60_000))))
                backoff.reset()
                if reportedUnreachable {
                    logger.notice("gsmsd is reachable again")
                    reportedUnreachable = false
                }
                await agent.waitForChange(since: seen, timeout: interval)
            } catch {
                if error.isUnknownHost {
                    registered = false
                    continue
                }
                let wait = backoff.next()
                if !reportedUnreachable || backoff.failures % 20 == 0 {
                    if error.isForeignHostKey {
                        logger.error(
                            "gsmsd has this host id bound to another agent's host key; another machine may be using this host id, or the host-key file was lost (see docs/control-plane-api.md, Host keys)",
                            metadata: ["error": "\(error)", "retry_in": "\(wait)"])
                    } else {
                        logger.warning("gsmsd call failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(wait)"])
                    }
                    reportedUnreachable = true
                }
                try? await Task.sleep(for: wait)
            }
        }
    }

    /// One heartbeat, counted in the metrics.
    private func heartbeat() async throws(ControlPlaneError) -> HostStatus {
        do throws(ControlPlaneError) {
            let status = try await client.heartbeat(await agent.heartbeatReport())
            metrics.controlPlaneHeartbeat(succeeded: true)
            return status
        } catch {
            metrics.controlPlaneHeartbeat(succeeded: false)
            throw error
        }
    }

    /// gsmsd decides which session the host holds.
    private func reconcile(with status: HostStatus) async {
        let local = await agent.session
        if let ended = await agent.unreportedEnd, ended == status.sessionId { return }  // told at the next beat
        do {
            switch (local, status.sessionId) {
            case (let held?, let assigned?) where assigned == held.sessionId && status.state == .allocating:
                // Saved but not acknowledged by an earlier run of the agent (killed in between):
                // acknowledge it now, unless this run's hand-off path is at it or has done it.
                guard await acknowledgements.claim(held.sessionId) else { return }
                do {
                    _ = try await client.acknowledge(sessionId: held.sessionId)
                } catch {
                    await acknowledgements.finish(held.sessionId, acknowledged: false)
                    throw error
                }
                await acknowledgements.finish(held.sessionId, acknowledged: true)
                metrics.handoffEnded(.acknowledged)
                logger.info("hand-off acknowledged after a restart", metadata: ["session_id": "\(held.sessionId)"])
            case (let held?, let assigned) where assigned != held.sessionId:
                guard status.state != .allocating else { return }  // a new hand-off is on its way
                logger.warning(
                    "gsmsd does not assign this host's session; dropping it",
                    metadata: ["session_id": "\(held.sessionId)", "gsmsd_session_id": "\(assigned ?? "-")"])
                try await agent.drop(sessionId: held.sessionId, reason: "gsmsd does not assign this session to the host")
            case (nil, let assigned?) where status.state == .active:
                logger.warning("gsmsd says this host holds a session the agent lost; taking it back", metadata: ["session_id": "\(assigned)"])
                try await agent.adopt(
                    SessionRecord(sessionId: assigned, sessionCookie: status.sessionCookie, allocatedAt: status.allocatedAt ?? ""))
            default:
                break
            }
        } catch {
            logger.error("cannot reconcile with gsmsd", metadata: ["error": "\(error)"])
        }
    }

    /// Tells gsmsd about a session the game ended, until it has heard.
    private func reportEndedSession() async throws(ControlPlaneError) {
        guard let sessionId = await agent.unreportedEnd else { return }
        do {
            _ = try await client.endSession(sessionId: sessionId)
        } catch where error.isRefusal {
            // gsmsd no longer has it on this host: nothing left to report.
            logger.notice("gsmsd did not have the ended session on this host", metadata: ["session_id": "\(sessionId)", "error": "\(error)"])
        }
        do {
            try await agent.endReported(sessionId: sessionId)
        } catch {
            logger.error("cannot save that the session end was reported", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Hand-offs

    private func receiveHandoffs() async {
        var backoff = Backoff()
        while !Task.isCancelled {
            let seen = await agent.changeCount
            guard await agent.state == .standingBy else {
                await agent.waitForChange(since: seen, timeout: .seconds(30))
                continue
            }
            do throws(ControlPlaneError) {
                guard let handoff = try await client.nextHandoff(wait: Self.handoffWaitSeconds) else { continue }
                backoff.reset()
                await take(handoff)
            } catch {
                // Unknown host: the registration loop registers it; wait a moment either way.
                try? await Task.sleep(for: backoff.next())
            }
        }
    }

    /// Saves the hand-off, then acknowledges it; drops it when gsmsd has moved on. The ledger
    /// knows of it before it is saved, so a heartbeat in between does not acknowledge it too.
    private func take(_ handoff: Handoff) async {
        await acknowledgements.begin(handoff.sessionId)
        let acknowledged = await saveAndAcknowledge(handoff)
        await acknowledgements.finish(handoff.sessionId, acknowledged: acknowledged)
    }

    /// Whether gsmsd accepted the acknowledgement.
    private func saveAndAcknowledge(_ handoff: Handoff) async -> Bool {
        // A hand-off read after its deadline (the agent was stopped or starved meanwhile) has
        // moved on to another host: the game must never see it.
        if Self.isPastDeadline(handoff, now: Date()) {
            logger.warning(
                "hand-off read after its acknowledgement deadline; ignoring it (gsmsd gives it to another host). If this repeats, check this machine's clock against gsmsd's",
                metadata: ["session_id": "\(handoff.sessionId)", "acknowledge_by": "\(handoff.acknowledgeBy)"])
            metrics.handoffEnded(.late)
            return false
        }
        do {
            try await agent.accept(handoff)
        } catch {
            logger.error("cannot take the hand-off", metadata: ["session_id": "\(handoff.sessionId)", "error": "\(error)"])
            metrics.handoffEnded(.notSaved)
            return false  // not acknowledged: gsmsd moves on to another host
        }
        var backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(500))
        while !Task.isCancelled {
            do throws(ControlPlaneError) {
                _ = try await client.acknowledge(sessionId: handoff.sessionId)
                logger.info("hand-off acknowledged", metadata: ["session_id": "\(handoff.sessionId)"])
                metrics.handoffEnded(.acknowledged)
                return true
            } catch where error.isRefusal {
                logger.warning(
                    "gsmsd refused the acknowledgement; dropping the session",
                    metadata: ["session_id": "\(handoff.sessionId)", "error": "\(error)"])
                try? await agent.drop(sessionId: handoff.sessionId, reason: "gsmsd refused the acknowledgement (\(error.code))")
                metrics.handoffEnded(.refused)
                return false
            } catch {
                // Unreachable: retry; if gsmsd moved on meanwhile, the heartbeat reconciles.
                try? await Task.sleep(for: backoff.next())
            }
        }
        return false
    }

    /// How far past `acknowledgeBy` (gsmsd's clock) this machine's clock must be before a
    /// hand-off counts as late: room for clocks a little apart.
    static let lateHandoffTolerance: TimeInterval = 2

    /// Whether `acknowledgeBy` has passed by more than `lateHandoffTolerance`. An unreadable
    /// deadline counts as not passed: gsmsd refuses a late acknowledgement anyway.
    static func isPastDeadline(_ handoff: Handoff, now: Date) -> Bool {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let deadline = (try? style.parse(handoff.acknowledgeBy)) ?? (try? Date.ISO8601FormatStyle().parse(handoff.acknowledgeBy))
        guard let deadline else { return false }
        return now.timeIntervalSince(deadline) > lateHandoffTolerance
    }

    // MARK: Shutdown

    private func deregisterIfIdle() async {
        let state = await agent.state
        guard await agent.session == nil, state == .standingBy || state == .initializing else { return }
        do {
            try await client.deregister()
            logger.info("deregistered from gsmsd")
        } catch {
            logger.warning("could not deregister from gsmsd", metadata: ["error": "\(error)"])
        }
    }
}
