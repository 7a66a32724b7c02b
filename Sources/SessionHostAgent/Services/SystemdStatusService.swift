import Logging
import ServiceLifecycle
import Systemd

/// Tells systemd how the agent is: `READY=1` once the socket serves (the state is loaded before
/// the server starts), `STATUS=` on every state change, `STOPPING=1` when shutdown begins.
public struct SystemdStatusService: Service {
    public let agent: HostAgent
    public let notifier: SystemdNotifier
    /// Yields once when the socket is listening.
    public let listening: AsyncStream<Void>

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
                notifier.ready(status: await agent.statusText())
                for await _ in await agent.events(bufferingNewest: 1) {
                    notifier.status(await agent.statusText())
                }
            }
        } onGracefulShutdown: {
            notifier.stopping(status: "Stopping")
        }
    }
}
