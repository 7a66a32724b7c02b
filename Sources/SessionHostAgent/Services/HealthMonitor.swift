import ServiceLifecycle

/// Makes the host Unhealthy when the game misses its heartbeats. It sleeps until the next
/// deadline or, when nothing is monitored, until the state changes: no polling.
public struct HealthMonitor: Service {
    public let agent: HostAgent

    public init(agent: HostAgent) {
        self.agent = agent
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var iterator = await agent.events(bufferingNewest: 1).makeAsyncIterator()
            while !Task.isCancelled {
                if let deadline = await agent.healthDeadline() {
                    do {
                        // On the agent's clock, which made the deadline.
                        try await deadline.sleep(tolerance: .milliseconds(50))
                    } catch {
                        return
                    }
                    await agent.expireHealthIfDue()
                } else if await iterator.next() == nil {
                    return
                }
            }
        }
    }
}
