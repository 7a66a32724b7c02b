import Foundation
import SessionHostSDK

/// Where the games of the real agents post the sessions they receive, and where the hand-off
/// probe lets them end those sessions once the title has its answer (a game that ended its session
/// before the agent's acknowledgement reached gsmsd would make gsmsd move the session on).
actor HandoffBoard {
    private var arrivals: [String: ContinuousClock.Instant] = [:]
    private var arrivalWaiters: [String: CheckedContinuation<ContinuousClock.Instant?, Never>] = [:]
    private var abandoned: Set<String> = []
    private var released: Set<String> = []
    private var releaseWaiters: [String: CheckedContinuation<Void, Never>] = [:]
    private var closed = false

    /// A game received `sessionId` at `instant`.
    func arrived(_ sessionId: String, at instant: ContinuousClock.Instant) {
        if let waiter = arrivalWaiters.removeValue(forKey: sessionId) {
            waiter.resume(returning: instant)
        } else if !abandoned.contains(sessionId) {
            arrivals[sessionId] = instant
        }
    }

    /// When a game received `sessionId`; `nil` once `abandon` was called or the board closed.
    func arrival(of sessionId: String) async -> ContinuousClock.Instant? {
        if let instant = arrivals.removeValue(forKey: sessionId) { return instant }
        if closed || abandoned.contains(sessionId) { return nil }
        return await withCheckedContinuation { arrivalWaiters[sessionId] = $0 }
    }

    /// The probe stopped waiting for `sessionId`.
    func abandon(_ sessionId: String) {
        abandoned.insert(sessionId)
        arrivalWaiters.removeValue(forKey: sessionId)?.resume(returning: nil)
    }

    /// The game holding `sessionId` may end it.
    func release(_ sessionId: String) {
        if let waiter = releaseWaiters.removeValue(forKey: sessionId) {
            waiter.resume()
        } else {
            released.insert(sessionId)
        }
    }

    func waitForRelease(_ sessionId: String) async {
        if released.remove(sessionId) != nil || closed { return }
        await withCheckedContinuation { releaseWaiters[sessionId] = $0 }
    }

    /// Wakes everybody (at the end of the run).
    func close() {
        closed = true
        for waiter in arrivalWaiters.values { waiter.resume(returning: nil) }
        for waiter in releaseWaiters.values { waiter.resume() }
        arrivalWaiters.removeAll()
        releaseWaiters.removeAll()
    }

    /// Waits up to `timeout` for the arrival of `sessionId`.
    nonisolated func arrival(of sessionId: String, timeout: Duration) async -> ContinuousClock.Instant? {
        await withTaskGroup(of: ContinuousClock.Instant?.self) { group in
            group.addTask { await self.arrival(of: sessionId) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                await self.abandon(sessionId)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

/// Real `sessionhostd` processes with `--control-plane`, each with a game played by the
/// benchmark through `SessionHostSDK.AgentClient`: ready, `session(wait:)`, end, ready again.
struct RealAgents: Sendable {
    static let region = "BenchReal"

    let daemons: [Daemon]
    let games: [AgentClient]

    static func start(count: Int, binaries: Binaries, workspace: Workspace, gsmsd: GSMSDaemon) async throws
        -> RealAgents
    {
        var daemons: [Daemon] = []
        do {
            for index in 0..<count {
                let name = "real-\(index)"
                daemons.append(
                    try await Daemon.start(
                        binaries.sessionhostd,
                        arguments: [
                            "--socket", workspace.file(name + ".sock"), "--state-dir", workspace.file(name),
                            "--control-plane", gsmsd.baseURL, "--agent-token-file", gsmsd.fleetSecretFile,
                            "--title-id", GSMSDaemon.titleId, "--host-id", name, "--region", region,
                            "--hostname", name + ".bench.invalid", "--port", "game:udp:7777:30000",
                        ],
                        notifyPath: workspace.file(name + ".notify"), logPath: workspace.file(name + ".log")))
            }
        } catch {
            for daemon in daemons { await daemon.stop() }
            throw error
        }
        return RealAgents(
            daemons: daemons, games: (0..<count).map { AgentClient(socketPath: workspace.file("real-\($0).sock")) })
    }

    /// Plays every game until the task is cancelled; returns the number of errors.
    func play(board: HandoffBoard, errors: Counter) async {
        await withDiscardingTaskGroup { group in
            for game in games {
                group.addTask { await Self.play(game, board: board, errors: errors) }
            }
        }
    }

    private static func play(_ game: AgentClient, board: HandoffBoard, errors: Counter) async {
        let heartbeats = HeartbeatLoop.start(agent: game, every: .seconds(5))
        defer { heartbeats.stop() }
        var ready = false
        while !Task.isCancelled {
            do {
                if !ready {
                    try await game.ready()
                    ready = true
                }
                let session = try await game.session(wait: .seconds(30))
                let arrivedAt = ContinuousClock.now
                guard let sessionId = session.sessionId else { continue }
                await board.arrived(sessionId, at: arrivedAt)
                await board.waitForRelease(sessionId)
                if Task.isCancelled { return }
                try await game.endSession()
                ready = false
            } catch {
                if Task.isCancelled { return }
                errors.increment()
                try? await Task.sleep(for: .milliseconds(50))
                ready = false
            }
        }
    }

    func stop() async {
        await withDiscardingTaskGroup { group in
            for daemon in daemons { group.addTask { await daemon.stop() } }
        }
    }
}
