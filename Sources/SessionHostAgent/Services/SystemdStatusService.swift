import Logging
import ServiceLifecycle
import Systemd

/// Tells systemd how the agent is: `READY=1` once the socket serves (the state is loaded before
/// the server starts), `STATUS=` on every state change, `STOPPING=1` when shutdown begins.
///
/// Sending never blocks (see `SystemdNotifier`). When the manager's queue was full, the message
/// is retried every `retryInterval` until it goes out or a newer state replaces it.
public struct SystemdStatusService: Service {
    public let agent: HostAgent
    public let notifier: SystemdNotifier
    /// Yields once when the socket is listening.
    public let listening: AsyncStream<Void>

    /// How often a message the manager could not take is sent again.
    static let retryInterval: Duration = .seconds(1)

    public init(agent: HostAgent, notifier: SystemdNotifier, listening: AsyncStream<Void>) {
        self.agent = agent
        self.notifier = notifier
        self.listening = listening
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                var ready = listening.makeAsyncIterator()
                guard await ready.next() != nil else { return }
                var seen = await agent.changeCount
                var seenStatus = await agent.statusChanged.count
                var sent = await agent.statusText()
                notifier.ready(status: sent)
                while !Task.isCancelled {
                    let owed = notifier.hasUndelivered
                    await waitForChange(
                        since: seen, statusSince: seenStatus, timeout: owed ? Self.retryInterval : .seconds(3600))
                    let count = await agent.changeCount
                    let statusCount = await agent.statusChanged.count
                    if count != seen || statusCount != seenStatus {
                        seen = count
                        seenStatus = statusCount
                        let text = await agent.statusText()
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

    /// Waits until the host changed after `seen`, its standing with gsmsd changed after
    /// `statusSince`, or `timeout` passed.
    private func waitForChange(since seen: UInt64, statusSince: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await agent.waitForChange(since: seen, timeout: timeout) }
            group.addTask { await agent.statusChanged.wait(since: statusSince) }
            await group.next()
            group.cancelAll()
        }
    }
}
