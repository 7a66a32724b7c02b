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
/// A failed heartbeat (the agent restarting, say) is reported to `onError` and tried again at the
/// next tick; the loop only ends with `stop()` or when its task is cancelled.
public struct HeartbeatLoop: Sendable {
    private let task: Task<Void, Never>

    /// Starts heartbeating now and then every `interval`; `report` says what to send each time.
    public static func start(
        agent: AgentClient,
        every interval: Duration = .seconds(5),
        report: @escaping @Sendable () async -> HeartbeatRequest = { HeartbeatRequest(health: .healthy) },
        onError: @escaping @Sendable (any Error) -> Void = { _ in }
    ) -> HeartbeatLoop {
        HeartbeatLoop(task: Task {
            while !Task.isCancelled {
                do {
                    try await agent.heartbeat(await report())
                } catch {
                    if Task.isCancelled { return }
                    onError(error)
                }
                try? await Task.sleep(for: interval)
            }
        })
    }

    /// Stops the loop (no further heartbeat is sent).
    public func stop() {
        task.cancel()
    }
}
