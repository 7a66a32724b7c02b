import SessionHostModel
import Synchronization

/// Which hosts' hand-off channels this gsmsd instance knows to be down, so that allocations pass
/// them over instead of waiting `--handoff-timeout` for an agent that cannot hear.
///
/// An agent's channel is its held `GET …/handoff` poll, or its one held `POST /agent/v1/handoffs`
/// poll for all of its hosts, on a TCP connection with keepalive probes (`HandoffConnection`). The channel of a host is **down** when
/// - its held poll's connection closed before the poll was answered (the agent died, or the
///   keepalive probes went unanswered: a partition), or
/// - its poll was answered empty (the wait ran out) and no new poll came within `repollGrace`
///   (an agent re-polls at once).
/// It is up again the moment a poll arrives. A host this instance has not heard poll is not
/// listed (after a restart, or a poll held by another instance on PostgreSQL): it stays a
/// candidate, as before, and a hand-off it cannot take times out.
final class HandoffChannels: Sendable {
    /// How long after an empty answer the agent's next poll must arrive.
    let repollGrace: Duration
    /// Times the grace.
    private let clock: any Clock<Duration>
    private let state = Mutex(State())

    private struct State {
        var held: [String: Int] = [:]
        var answeredEmptyAt: [String: ClockInstant] = [:]
        var down: Set<String> = []
    }

    init(repollGrace: Duration = .seconds(2), clock: any Clock<Duration> = ContinuousClock()) {
        self.repollGrace = repollGrace
        self.clock = clock
    }

    /// A poll of `hostId` arrived: its channel is up.
    func pollStarted(hostId: String) {
        pollStarted(hostIds: [hostId])
    }

    /// A poll of all of `hostIds` arrived (an agent's one poll for its hosts,
    /// `POST /agent/v1/handoffs`): each one's channel is up.
    func pollStarted(hostIds: some Sequence<String>) {
        state.withLock { state in
            for hostId in hostIds {
                state.held[hostId, default: 0] += 1
                state.answeredEmptyAt[hostId] = nil
                state.down.remove(hostId)
            }
        }
    }

    /// A poll of `hostId` ended: answered with a hand-off, answered empty, or its connection
    /// closed first.
    func pollEnded(hostId: String, outcome: PollOutcome) {
        pollEnded([(hostId, outcome)])
    }

    /// A poll of several hosts ended, with each host's outcome: the hosts handed a session
    /// `.handedOff`, the others `.looked` (the agent polls again at once) when some were handed
    /// one, all `.answeredEmpty` when the wait ran out, all `.connectionLost` when the
    /// connection closed first.
    func pollEnded(_ outcomes: [(hostId: String, outcome: PollOutcome)]) {
        let now = clock.instant()
        state.withLock { state in
            for (hostId, outcome) in outcomes {
                let remaining = (state.held[hostId] ?? 1) - 1
                state.held[hostId] = remaining > 0 ? remaining : nil
                guard remaining <= 0 else { continue }
                switch outcome {
                case .handedOff, .looked: break // the agent acknowledges, then polls again once StandingBy
                case .answeredEmpty: state.answeredEmptyAt[hostId] = now
                case .connectionLost: state.down.insert(hostId)
                }
            }
        }
    }

    /// The host deregistered: nothing is known of it any more.
    func forget(hostId: String) {
        state.withLock { state in
            state.held[hostId] = nil
            state.answeredEmptyAt[hostId] = nil
            state.down.remove(hostId)
        }
    }

    /// The hosts whose channel is down now; allocations pass them over. (A copy of the set, not
    /// a sorted list: a claim looks hosts up in it.)
    func unreachableHosts() -> Set<String> {
        return state.withLock { state in
            if !state.answeredEmptyAt.isEmpty {
                for (hostId, answeredAt) in state.answeredEmptyAt where answeredAt.elapsed >= repollGrace {
                    state.answeredEmptyAt[hostId] = nil
                    state.down.insert(hostId)
                }
            }
            return state.down
        }
    }

    /// How many hosts hold a poll on this instance now: their channel is up.
    func hostsPolling() -> Int {
        state.withLock { $0.held.count }
    }

    /// Whether this instance knows `hostId`'s channel to be down.
    func isDown(hostId: String) -> Bool {
        unreachableHosts().contains(hostId)
    }

    enum PollOutcome: Sendable {
        /// Answered with a hand-off: the agent acknowledges, and polls again once StandingBy.
        case handedOff
        /// A poll that waited (`wait` ≥ 1 s) ran out: the agent polls again at once.
        case answeredEmpty
        /// A poll with a wait under a second, answered: a look, which says nothing of the channel.
        case looked
        /// The connection closed before the poll was answered.
        case connectionLost
    }
}
