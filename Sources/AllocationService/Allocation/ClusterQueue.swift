import AllocationStore
import Logging
import ServiceLifecycle
import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `POST /titles/{titleId}/clusters`: allocates at once when a host is free and nobody is queued
/// before, queues otherwise (or aborts, with `abortIfQueued`), and serves each title's queue first
/// in, first out whenever one of its hosts becomes StandingBy.
///
/// The work in the background (serving a title's queue, finishing a queued request's hand-off)
/// runs in `run()`, as child tasks of the service, which gsmsd's `ServiceGroup` runs: on
/// graceful shutdown it stops and cancels what runs (hand-offs left unacknowledged are abandoned
/// by the sweep after the restart, and their requests go back to the head of their queue).
actor ClusterQueue: Service {
    private let store: any InventoryStore
    private let allocator: Allocator
    private let timings: AllocationTimings
    private let logger: Logger
    /// The work `run()` does.
    private let jobs: AsyncStream<Job>
    private let jobsInput: AsyncStream<Job>.Continuation
    /// The origin of the times the poll-interval advisors measure, on `timings.clock`.
    private let origin: ClockInstant
    private var advisors: [String: PollIntervalAdvisor] = [:]
    private var dispatching: Set<String> = []
    private var dispatchAgain: Set<String> = []
    /// Titles whose queue may hold tickets: every title queued through here or found queued by
    /// the sweeper, until a pass finds its queue empty. A host becoming StandingBy serves only
    /// these, so the fleet's heartbeats cost no store call while nothing is queued.
    private var maybeQueued: Set<String> = []

    init(store: any InventoryStore, allocator: Allocator, timings: AllocationTimings, logger: Logger) {
        self.store = store
        self.allocator = allocator
        self.timings = timings
        self.logger = logger
        (jobs, jobsInput) = AsyncStream.makeStream(of: Job.self)
        origin = timings.clock.instant()
    }

    private enum Job: Sendable {
        case serveQueue(titleId: String)
        case finishHandoff(Allocation)
    }

    /// Does the queue's background work until graceful shutdown, which cancels it.
    nonisolated func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for await job in self.jobs {
                    group.addTask {
                        switch job {
                        case .serveQueue(let titleId): await self.serveQueue(titleId: titleId)
                        case .finishHandoff(let allocation): await self.finishHandoff(allocation)
                        }
                    }
                }
                group.cancelAll()
            }
        }
        jobsInput.finish()
    }

    /// Now, for the advisors: the time since the queue was made, on its clock.
    private var elapsed: Duration { origin.elapsed }

    /// Handles one request (or poll) for a cluster.
    func request(titleId: String, _ request: ClusterRequest) async throws -> ClusterResponse {
        advisors[titleId, default: PollIntervalAdvisor()].recordRequest(at: elapsed)
        let sessionId = request.sessionId
        if let allocation = try await store.allocation(titleId: titleId, sessionId: sessionId) {
            return allocation.state == .active
                ? response(titleId, .fulfilled, position: 1, allocation: allocation)
                : response(titleId, .queued, position: 1) // being handed off right now
        }
        if let ticket = try await store.ticket(titleId: titleId, sessionId: sessionId, polledAt: timings.now) {
            return response(titleId, .queued, position: ticket.position)
        }
        let queueLength = try await store.queueLength(titleId: titleId)
        if queueLength == 0 {
            switch try await allocator.allocate(
                titleId: titleId, sessionId: sessionId, kind: .cluster, criteria: HostCriteria(), sessionCookie: nil)
            {
            case .allocated(let allocation):
                advisors[titleId, default: PollIntervalAdvisor()].recordFulfilment(at: elapsed)
                return response(titleId, .fulfilled, position: 1, allocation: allocation)
            case .inFlight:
                return response(titleId, .queued, position: 1)
            case .noHost:
                // Hosts were claimed but none acknowledged in time: the store put the request back
                // at the head of the queue. A caller who would rather not wait gets Aborted and
                // the ticket goes; any other is told it is Queued.
                if let ticket = try await store.ticket(titleId: titleId, sessionId: sessionId, polledAt: nil) {
                    if request.abortIfQueued, try await store.withdrawTicket(titleId: titleId, sessionId: sessionId) {
                        return response(titleId, .aborted, position: ticket.position)
                    }
                    maybeQueued.insert(titleId)
                    return response(titleId, .queued, position: ticket.position)
                }
            }
        }
        if request.abortIfQueued {
            return response(titleId, .aborted, position: queueLength + 1)
        }
        let ticket = try await store.enqueueCluster(titleId: titleId, sessionId: sessionId, at: timings.now)
        logger.info(
            "cluster request queued",
            metadata: ["title_id": "\(titleId)", "session_id": "\(sessionId)", "position": "\(ticket.position)"])
        dispatch(titleId: titleId)
        return response(titleId, .queued, position: ticket.position)
    }

    /// A host of the title became StandingBy: serves the title's queue if it may hold tickets.
    func hostBecameStandingBy(titleId: String) {
        if maybeQueued.contains(titleId) { dispatch(titleId: titleId) }
    }

    /// Serves the title's queue with the StandingBy hosts it has now. Cheap to call often.
    func dispatch(titleId: String) {
        maybeQueued.insert(titleId)
        guard !dispatching.contains(titleId) else {
            dispatchAgain.insert(titleId)
            return
        }
        dispatching.insert(titleId)
        jobsInput.yield(.serveQueue(titleId: titleId))
    }

    private func serveQueue(titleId: String) async {
        repeat {
            dispatchAgain.remove(titleId)
            do {
                while !Task.isCancelled {
                    let now = timings.now
                    guard
                        let allocation = try await store.claimHostForQueue(
                            titleId: titleId, now: now, liveSince: timings.liveSince(now),
                            acknowledgeBy: timings.acknowledgeBy(now), excluding: allocator.channels.unreachableHosts(),
                            strategy: allocator.strategy)
                    else { break }
                    logger.info(
                        "queued cluster request handed to a session host",
                        metadata: [
                            "title_id": "\(titleId)", "session_id": "\(allocation.sessionId)",
                            "session_host_id": "\(allocation.sessionHostId)",
                        ])
                    jobsInput.yield(.finishHandoff(allocation))
                }
                if try await store.queueLength(titleId: titleId) == 0 {
                    maybeQueued.remove(titleId)
                } else {
                    maybeQueued.insert(titleId)
                }
            } catch {
                logger.error(
                    "cannot serve the cluster queue", metadata: ["title_id": "\(titleId)", "error": "\(error)"])
            }
        } while dispatchAgain.contains(titleId) && !Task.isCancelled
        dispatching.remove(titleId)
    }

    /// Waits for the agent's acknowledgement of a queued request's hand-off; moves it on to the next
    /// host (or back to the head of the queue) when none comes in time.
    private func finishHandoff(_ first: Allocation) async {
        var allocation = first
        do {
            while true {
                if try await allocator.completeHandoff(allocation) != nil {
                    advisors[allocation.titleId, default: PollIntervalAdvisor()].recordFulfilment(at: elapsed)
                    return
                }
                // Shutting down: the sweep after the restart abandons the hand-off.
                if Task.isCancelled { return }
                let now = timings.now
                let claim = AllocationClaim(
                    titleId: allocation.titleId, sessionId: allocation.sessionId, kind: .cluster,
                    criteria: HostCriteria(),
                    sessionCookie: nil, now: now, liveSince: timings.liveSince(now),
                    acknowledgeBy: timings.acknowledgeBy(now), strategy: allocator.strategy)
                switch try await store.reassignHandoff(claim, failedHostId: allocation.sessionHostId) {
                case .claimed(let next):
                    allocation = next
                case .active:
                    advisors[allocation.titleId, default: PollIntervalAdvisor()].recordFulfilment(at: elapsed)
                    return
                case .noHost:
                    // Back at the head of its queue.
                    maybeQueued.insert(allocation.titleId)
                    return
                case .inFlight:
                    return
                }
            }
        } catch {
            logger.error(
                "cannot finish a queued hand-off; the sweep will retry",
                metadata: [
                    "title_id": "\(allocation.titleId)", "session_id": "\(allocation.sessionId)", "error": "\(error)",
                ])
        }
    }

    private func response(
        _ titleId: String, _ state: FulfillmentState, position: Int, allocation: Allocation? = nil
    ) -> ClusterResponse {
        let advisor = advisors[titleId, default: PollIntervalAdvisor()]
        let interval = advisor.interval(position: position, at: elapsed, maximumInterval: timings.queueTimeout / 3)
        return ClusterResponse(
            pollIntervalMilliseconds: interval.milliseconds, fulfillmentState: state,
            queuePosition: state == .queued ? position : nil, allocation: allocation?.publicBody)
    }
}
