import Logging
import ServiceLifecycle
import SessionHostModel
import Systemd

/// Tells systemd how the agent is: `READY=1` once the socket serves (the state is loaded before
/// the server starts), `STATUS=` on every state change, `STOPPING=1` when shutdown begins.
///
/// Sending never blocks (see `SystemdNotifier`). When the manager's queue was full, the message
/// is retried every `retryInterval` until it goes out or a newer state replaces it.
public struct SystemdStatusService: Service {
    /// Every slot's agent.
    public let agents: [HostAgent]
    public let notifier: SystemdNotifier
    /// Yields once when the socket is listening.
    public let listening: AsyncStream<Void>

    /// How often a message the manager could not take is sent again.
    static let retryInterval: Duration = .seconds(1)

    /// One slot's agent.
    public init(agent: HostAgent, notifier: SystemdNotifier, listening: AsyncStream<Void>) {
        self.init(agents: [agent], notifier: notifier, listening: listening)
    }

    public init(agents: [HostAgent], notifier: SystemdNotifier, listening: AsyncStream<Void>) {
        self.agents = agents
        self.notifier = notifier
        self.listening = listening
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                var ready = listening.makeAsyncIterator()
                guard await ready.next() != nil else { return }
                var seen = await counts()
                var sent = await Self.statusText(of: agents)
                notifier.ready(status: sent)
                while !Task.isCancelled {
                    let owed = notifier.hasUndelivered
                    await waitForChange(since: seen, timeout: owed ? Self.retryInterval : .seconds(3600))
                    let now = await counts()
                    if now != seen {
                        seen = now
                        let text = await Self.statusText(of: agents)
                        if text != sent {
                            sent = text
                            notifier.status(text)
                        }
                    } else if owed {
                        notifier.retryUndelivered()
                    }
                }
            }
        } onGracefulShutdown: {
            notifier.stopping(status: "Stopping")
        }
    }

    /// Per slot: its change count and its status-change count.
    private func counts() async -> [UInt64] {
        var counts: [UInt64] = []
        for agent in agents {
            counts.append(await agent.changeCount)
            counts.append(await agent.statusChanged.count)
        }
        return counts
    }

    /// Waits until a slot changed or its standing with gsmsd changed after `seen` (`counts()`),
    /// or `timeout` passed.
    private func waitForChange(since seen: [UInt64], timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            for (index, agent) in agents.enumerated() {
                group.addTask { await agent.waitForChange(since: seen[2 * index], timeout: timeout) }
                group.addTask { await agent.statusChanged.wait(since: seen[2 * index + 1]) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// `STATUS=`: the slots' status (`slotsText`), after `Draining until DEADLINE: ` while the VM
    /// drains; once it is drained, `Drained: all 4 slots idle; the VM can be removed`.
    static func statusText(of agents: [HostAgent]) async -> String {
        let text = await slotsText(of: agents)
        guard let standing = agents.first?.drainStanding, let notice = standing.notice else { return text }
        if standing.drained {
            let idle = agents.count == 1 ? "the slot is idle" : "all \(agents.count) slots idle"
            return "Drained: \(idle); the VM can be removed"
        }
        return "Draining until \(notice.deadline): \(text)"
    }

    /// The one slot's status, or with several a count per state, e.g.
    /// `16 slots: 13 StandingBy, 3 Active (title T, region R)`, with the first slot's trouble with gsmsd.
    static func slotsText(of agents: [HostAgent]) async -> String {
        guard agents.count > 1, let first = agents.first else { return await agents.first?.statusText() ?? "" }
        var counts: [HostState: Int] = [:]
        for agent in agents { counts[await agent.state, default: 0] += 1 }
        let states = HostState.allCases.compactMap { state in counts[state].map { "\($0) \(state.rawValue)" } }
        let identity = first.identity
        let title = identity.titleId.isEmpty ? "" : "title \(identity.titleId), "
        var text = "\(agents.count) slots: \(states.joined(separator: ", ")) (\(title)region \(identity.region))"
        let standing = first.controlPlaneStanding
        switch standing.status {
        case .refused:
            text += "; not in gsmsd's pool: refused (\(standing.code ?? "?")): \(standing.message ?? "")"
        case .unreachable:
            text += "; not in gsmsd's pool: \(standing.message ?? "gsmsd cannot be reached")"
        case .local, .connecting, .registered:
            break
        }
        return text
    }
}
