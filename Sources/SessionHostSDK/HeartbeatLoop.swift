import ServiceLifecycle

/// Heartbeats sent in the background while a game server runs.
///
/// ```swift
/// let heartbeats = HeartbeatLoop.start(agent: agent, every: .seconds(5)) {
///     HeartbeatRequest(health: .healthy, players: currentPlayers())
/// }
/// …
/// heartbeats.stop()
/// ```
///
/// A game that runs a swift-service-lifecycle `ServiceGroup` adds the loop to it instead: made
/// with `init`, not started, it heartbeats while its `run()` runs, and stops on graceful shutdown
/// or cancellation.
///
/// ```swift
/// let heartbeats = HeartbeatLoop(agent: agent, every: .seconds(5))
/// let group = ServiceGroup(services: [heartbeats, gameServer], logger: logger)
/// ```
///
/// A failed heartbeat (the agent restarting, say) is reported to `onError` and tried again at the
/// next tick; the loop only ends with `stop()`, when its task is cancelled, or on graceful shutdown.
public struct HeartbeatLoop: Service {
    private let interval: Duration
    private let clock: any Clock<Duration>
    private let send: @Sendable () async throws -> Void
    private let onError: @Sendable (any Error) -> Void
    /// The task of a loop made with `start`.
    private let task: Task<Void, Never>?

    /// A loop that heartbeats now and then every `interval` while `run()` runs (as a `Service`);
    /// `report` says what to send each time. `clock` times the interval.
    public init(
        agent: AgentClient,
        every interval: Duration = .seconds(5),
        clock: any Clock<Duration> = ContinuousClock(),
        report: @escaping @Sendable () async -> HeartbeatRequest = { HeartbeatRequest(health: .healthy) },
        onError: @escaping @Sendable (any Error) -> Void = { _ in }
    ) {
        self.init(every: interval, clock: clock, send: { try await agent.heartbeat(await report()) }, onError: onError)
    }

    /// A loop that calls `send` for each heartbeat.
    init(
        every interval: Duration, clock: any Clock<Duration>, send: @escaping @Sendable () async throws -> Void,
        onError: @escaping @Sendable (any Error) -> Void, task: Task<Void, Never>? = nil
    ) {
        self.interval = interval
        self.clock = clock
        self.send = send
        self.onError = onError
        self.task = task
    }

    /// Starts heartbeating now and then every `interval`, in a task of its own until `stop()`;
    /// `report` says what to send each time.
    public static func start(
        agent: AgentClient,
        every interval: Duration = .seconds(5),
        report: @escaping @Sendable () async -> HeartbeatRequest = { HeartbeatRequest(health: .healthy) },
        onError: @escaping @Sendable (any Error) -> Void = { _ in }
    ) -> HeartbeatLoop {
        start(HeartbeatLoop(agent: agent, every: interval, report: report, onError: onError))
    }

    /// `loop`, started in a task of its own.
    static func start(_ loop: HeartbeatLoop) -> HeartbeatLoop {
        HeartbeatLoop(
            every: loop.interval, clock: loop.clock, send: loop.send, onError: loop.onError,
            task: Task { await loop.beat() })
    }

    /// Heartbeats until graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await beat()
        }
    }

    /// Stops a loop made with `start` (no further heartbeat is sent). A loop run as a `Service`
    /// stops with its service group.
    public func stop() {
        task?.cancel()
    }

    /// Heartbeats now and every `interval` until the task is cancelled.
    func beat() async {
        while !Task.isCancelled {
            do {
                try await send()
            } catch {
                if Task.isCancelled { return }
                onError(error)
            }
            do {
                try await clock.sleep(for: interval)
            } catch {
                return
            }
        }
    }
}
