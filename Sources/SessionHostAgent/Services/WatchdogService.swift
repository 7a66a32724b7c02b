import Logging
import NIOCore
import ServiceLifecycle
import Systemd

/// Sends `WATCHDOG=1` at half of `WatchdogSec` while the event loop and the agent answer, so
/// that systemd kills and restarts an agent that hangs.
public struct WatchdogService: Service {
    public let interval: Duration?
    /// Every slot's agent.
    public let agents: [HostAgent]
    public let eventLoop: any EventLoop
    public let notifier: SystemdNotifier
    public let logger: Logger
    /// Times the pings.
    public let clock: any Clock<Duration>

    /// One slot's agent.
    public init(
        interval: Duration?, agent: HostAgent, eventLoop: any EventLoop, notifier: SystemdNotifier, logger: Logger,
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.init(
            interval: interval, agents: [agent], eventLoop: eventLoop, notifier: notifier, logger: logger, clock: clock)
    }

    public init(
        interval: Duration?, agents: [HostAgent], eventLoop: any EventLoop, notifier: SystemdNotifier, logger: Logger,
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.interval = interval
        self.clock = clock
        self.agents = agents
        self.eventLoop = eventLoop
        self.notifier = notifier
        self.logger = logger
    }

    public func run() async throws {
        guard let interval else {
            // No watchdog configured: wait for shutdown without doing anything.
            try? await gracefulShutdown()
            return
        }
        logger.debug("feeding the systemd watchdog", metadata: ["interval": "\(interval)"])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                // All must answer: a hung event loop or a stuck slot means no ping.
                guard (try? await eventLoop.submit({}).get()) != nil else { return }
                for agent in agents { _ = await agent.state }
                notifier.watchdog()
                do {
                    try await clock.sleep(for: interval)
                } catch {
                    return
                }
            }
        }
    }
}
