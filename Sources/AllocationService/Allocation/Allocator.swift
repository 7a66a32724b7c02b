import AllocationStore
import Logging
import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What an allocation request came to.
enum AllocationResult: Sendable, Equatable {
    /// The session is Active on this host: its agent has acknowledged the hand-off.
    case allocated(Allocation)
    /// The same session id is being allocated by another request right now.
    case inFlight
    /// No live StandingBy host matches.
    case noHost
}

/// Puts a session on a host: claims a host in the store, wakes the host's agent, waits for the
/// agent's acknowledgement and, when none comes in time, sets the host aside and tries the next
/// candidate. Answers only once the session is Active and saved, so a 200 is always true.
struct Allocator: Sendable {
    let store: any InventoryStore
    let notifier: ChangeNotifier
    /// Hosts whose hand-off channel is down are passed over.
    let channels: HandoffChannels
    let timings: AllocationTimings
    let logger: Logger
    let metrics: GSMSMetrics
    /// How claims choose among the matching hosts (`--allocation-strategy`).
    var strategy: AllocationStrategy = .packed

    /// Allocates for `request`; `now` and the deadlines of the claim are refreshed on each retry.
    func allocate(
        titleId: String, sessionId: String, kind: AllocationKind, criteria: HostCriteria, sessionCookie: String?
    ) async throws -> AllocationResult {
        func claim() -> AllocationClaim {
            let now = timings.now
            return AllocationClaim(
                titleId: titleId, sessionId: sessionId, kind: kind, criteria: criteria, sessionCookie: sessionCookie,
                now: now, liveSince: timings.liveSince(now), acknowledgeBy: timings.acknowledgeBy(now),
                unreachableHostIds: channels.unreachableHosts(), strategy: strategy)
        }
        var outcome = try await store.claimHost(claim())
        while true {
            switch outcome {
            case .active(let allocation):
                return .allocated(allocation)
            case .inFlight:
                return .inFlight
            case .noHost:
                return .noHost
            case .claimed(let allocation):
                if let active = try await completeHandoff(allocation) {
                    return .allocated(active)
                }
                logger.warning(
                    "session host did not acknowledge the hand-off in time; trying the next one",
                    metadata: [
                        "session_host_id": "\(allocation.sessionHostId)", "session_id": "\(sessionId)",
                        "title_id": "\(titleId)",
                    ])
                outcome = try await store.reassignHandoff(claim(), failedHostId: allocation.sessionHostId)
            }
        }
    }

    /// Wakes the claimed host's agent and waits until it acknowledges (the Active allocation) or
    /// the deadline passes, or the session leaves the host (`nil`).
    func completeHandoff(_ allocation: Allocation) async throws -> Allocation? {
        let started = timings.clock.instant()
        await notifier.notify(.host(allocation.sessionHostId))
        let timeLeft = max(0, allocation.acknowledgeBy.timeIntervalSince(timings.now))
        let deadline = timings.clock.instant(in: .milliseconds(Int64(timeLeft * 1000)))
        let store = self.store
        let settled = try await notifier.waitForValue(
            of: .session(titleId: allocation.titleId, sessionId: allocation.sessionId), until: deadline
        ) { () async throws -> Allocation?? in
            guard
                let current = try await store.allocation(titleId: allocation.titleId, sessionId: allocation.sessionId),
                current.sessionHostId == allocation.sessionHostId
            else { return .some(nil) }
            return current.state == .active ? .some(current) : nil
        }
        let result: GSMSMetrics.HandoffResult =
            switch settled {
            case .some(.some): .acknowledged
            case .some(.none): .withdrawn
            case .none: .timedOut
            }
        metrics.handoffFinished(titleId: allocation.titleId, result: result, duration: started.elapsed)
        return settled ?? nil
    }
}
