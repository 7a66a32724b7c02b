import Logging
import ServiceLifecycle
import SessionHostModel

/// The agent's one channel to gsmsd for all of its slots (docs/control-plane-api.md, "One
/// channel per agent"):
///
/// - **Sync.** Registrations and heartbeats of the slots go out together in one
///   `POST /agent/v1/sync`: a report made while one is in flight waits for it and goes in the
///   next, so N slots cost one request per heartbeat interval, not N, and the slots, answered
///   together, keep beating together.
/// - **Hand-offs.** One held `POST /agent/v1/handoffs` for every slot, whatever its state,
///   delivers each hand-off to its slot's `ControlPlaneLink`. Hand-offs a slot is still
///   acknowledging are named in the poll (`receivedSessionIds`) so that gsmsd holds it instead
///   of answering them again. After a failure the next poll only looks (`wait` 0): its answer
///   proves the channel is back, and `restored` fires so that every slot heartbeats at once.
///
/// Acknowledgements, session ends and deregistrations stay per host, on the same keep-alive
/// connections. It runs as a `Service` (the held poll) listed before the slots' links, so that
/// it stops after them and closes the connections last.
actor ControlPlaneChannel: Service {
    nonisolated let client: ControlPlaneClient
    /// Every slot's host id, in slot order.
    nonisolated let hostIds: [String]
    nonisolated let logger: Logger
    /// Fires when the hand-off poll came back after failing: every slot heartbeats at once.
    nonisolated let restored = WakeSignal()
    /// How long one held poll lasts.
    static let handoffWaitSeconds = 30.0
    /// How long a sync waits for the other slots' reports before it goes out: slots whose
    /// heartbeats fall due together (`nextBeat`) are in one request.
    static let gatherWindow: Duration = .milliseconds(3)
    /// When the channel began: the slots' periodic heartbeats fall due at the same multiples of
    /// the interval after it.
    private nonisolated let epoch = ContinuousClock.now

    private var queued: [(ticket: Int, report: HostSyncReport)] = []
    private var sending = false
    private var nextTicket = 0
    private var waiters: [Int: CheckedContinuation<Result<HostStatus, ControlPlaneError>, Never>] = [:]
    private var finished: [Int: Result<HostStatus, ControlPlaneError>] = [:]

    private nonisolated let mailboxes:
        [String: (stream: AsyncStream<Handoff>, continuation: AsyncStream<Handoff>.Continuation)]
    /// Hand-offs delivered to a slot that is still acknowledging them.
    private var receiving: Set<String> = []

    init(client: ControlPlaneClient, hostIds: [String], logger: Logger) {
        self.client = client
        self.hostIds = hostIds
        self.logger = logger
        var mailboxes: [String: (AsyncStream<Handoff>, AsyncStream<Handoff>.Continuation)] = [:]
        for hostId in hostIds { mailboxes[hostId] = AsyncStream.makeStream(bufferingPolicy: .unbounded) }
        self.mailboxes = mailboxes.mapValues { (stream: $0.0, continuation: $0.1) }
    }

    // MARK: Sync

    /// Sends `report` with the other slots' reports and answers this host's part.
    func sync(_ report: HostSyncReport) async throws(ControlPlaneError) -> HostStatus {
        let ticket = nextTicket
        nextTicket += 1
        queued.append((ticket, report))
        if !sending {
            sending = true
            if hostIds.count > 1 { try? await Task.sleep(for: Self.gatherWindow) }
            while !queued.isEmpty {
                let batch = queued
                queued.removeAll()
                let results = await send(batch.map(\.report))
                for (entry, result) in zip(batch, results) {
                    if let waiter = waiters.removeValue(forKey: entry.ticket) {
                        waiter.resume(returning: result)
                    } else {
                        finished[entry.ticket] = result
                    }
                }
            }
            sending = false
        }
        let result: Result<HostStatus, ControlPlaneError>
        if let done = finished.removeValue(forKey: ticket) {
            result = done
        } else {
            result = await withCheckedContinuation { waiters[ticket] = $0 }
        }
        return try result.get()
    }

    /// How long until the next periodic heartbeat of every slot: the next multiple of `interval`
    /// after the channel began, so that all slots beat at the same moments (in one sync).
    nonisolated func untilNextBeat(interval: Duration) -> Duration {
        let elapsed = ContinuousClock.now - epoch
        let intervalNanoseconds = max(interval.nanoseconds, 1_000_000)
        let remainder = elapsed.nanoseconds % intervalNanoseconds
        return .nanoseconds(intervalNanoseconds - remainder)
    }

    /// One sync request; a result per report, in order.
    private func send(_ reports: [HostSyncReport]) async -> [Result<HostStatus, ControlPlaneError>] {
        do throws(ControlPlaneError) {
            let answer = try await client.sync(HostSyncRequest(hosts: reports))
            return reports.map { report in
                guard let result = answer.hosts.first(where: { $0.sessionHostId == report.sessionHostId }) else {
                    return .failure(
                        ControlPlaneError(
                            status: nil, code: .invalidAnswer,
                            message: "gsmsd's sync answer has no result for host \(report.sessionHostId)"))
                }
                if let status = result.status { return .success(status) }
                let error = result.error ?? HostSyncError(status: 500, code: "InvalidAnswer", message: "no status")
                return .failure(
                    ControlPlaneError(
                        status: error.status, code: ControlPlaneError.Code(rawValue: error.code),
                        message: error.message))
            }
        } catch {
            return reports.map { _ in .failure(error) }
        }
    }

    // MARK: Hand-offs

    /// The hand-offs of slot `hostId`, in the order gsmsd gave them.
    nonisolated func handoffs(for hostId: String) -> AsyncStream<Handoff> {
        mailboxes[hostId]?.stream ?? AsyncStream { $0.finish() }
    }

    /// The slot is done with the hand-off (acknowledged, refused or given up): a later poll may
    /// answer it again if gsmsd still has it waiting.
    func handoffDone(sessionId: String) {
        receiving.remove(sessionId)
    }

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.poll() }
        for mailbox in mailboxes.values { mailbox.continuation.finish() }
        await client.shutdown()
    }

    /// Holds the hand-off poll for every slot.
    private func poll() async {
        var backoff = Backoff(initial: .milliseconds(50), maximum: .seconds(1))
        var failing = false
        while !Task.isCancelled {
            do throws(ControlPlaneError) {
                let request = HandoffsPollRequest(
                    sessionHostIds: hostIds, wait: failing ? 0 : Self.handoffWaitSeconds,
                    receivedSessionIds: receiving.isEmpty ? nil : receiving.sorted())
                let handoffs = try await client.nextHandoffs(request)
                if failing {
                    failing = false
                    await restored.fire()
                }
                backoff.reset()
                var delivered = false
                for handoff in handoffs where !receiving.contains(handoff.sessionId) {
                    guard let mailbox = mailboxes[handoff.sessionHostId] else {
                        logger.warning(
                            "gsmsd sent a hand-off for a host this agent does not run",
                            metadata: ["session_host_id": "\(handoff.sessionHostId)"])
                        continue
                    }
                    receiving.insert(handoff.sessionId)
                    mailbox.continuation.yield(handoff)
                    delivered = true
                }
                // Only hand-offs already being acknowledged (a gsmsd that answers them again):
                // not at once again.
                if !handoffs.isEmpty, !delivered { try? await Task.sleep(for: backoff.next()) }
            } catch {
                if !failing {
                    logger.debug("the hand-off poll failed; looking again", metadata: ["error": "\(error)"])
                }
                failing = true
                try? await Task.sleep(for: backoff.next())
            }
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
