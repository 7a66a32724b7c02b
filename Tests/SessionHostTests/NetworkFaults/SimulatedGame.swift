import Foundation
import SessionHostSDK
import Synchronization

/// A game server on one agent's socket, played by the test process: it calls ready, waits for
/// a session (`GET /v1/session?wait=`), plays a match of a random length (shorter when the
/// agent takes the session away), ends it (`POST /v1/session/end`) and calls ready again, so
/// that its host keeps recycling. What it is shown is recorded by its `SessionObserver`.
final class SimulatedGame: Sendable {
    private struct Control {
        var random: FaultInjectionTests.SplitMix64
        var matchLength: ClosedRange<Int> // milliseconds
        var stopRequested = false
        var errors: [String] = []
    }

    let hostId: String
    let client: AgentClient
    let observer: SessionObserver
    private let control: Mutex<Control>
    private let loop = Mutex<Task<Void, Never>?>(nil)

    /// Match lengths unless a scenario sets others, in milliseconds.
    static let usualMatchLength = 300...1200
    /// How long one `GET /v1/session?wait=` is held, so that a stop is noticed soon.
    static let sessionWait: Duration = .seconds(1)
    /// The loop ends by itself after this long, whatever happens to the test.
    static let maximumLifetime: Duration = .seconds(900)

    init(hostId: String, socketPath: String, seed: UInt64) {
        self.hostId = hostId
        client = AgentClient(socketPath: socketPath)
        observer = SessionObserver(hostId: hostId)
        control = Mutex(
            Control(random: FaultInjectionTests.SplitMix64(state: seed), matchLength: Self.usualMatchLength))
    }

    /// Starts following the agent's events and playing.
    func start() {
        observer.start(client: client)
        let task = Task { [self] in await play() }
        loop.withLock { $0 = task }
    }

    /// Sessions from now on last `milliseconds` (a range to pick from at random).
    func setMatchLength(milliseconds: ClosedRange<Int>) {
        control.withLock { $0.matchLength = milliseconds }
    }

    /// Stops playing (a match in progress is ended first) and following events.
    func stop() async {
        control.withLock { $0.stopRequested = true }
        let task = loop.withLock { $0 }
        _ = await task?.value
        observer.stop()
    }

    /// Calls to the agent that failed (the socket is local: there should be none).
    var errors: [String] { control.withLock { $0.errors } }

    private var stopRequested: Bool { control.withLock { $0.stopRequested } }

    private func play() async {
        let endOfLife = ContinuousClock.now + Self.maximumLifetime
        while !stopRequested && ContinuousClock.now < endOfLife {
            do {
                let info = try await client.session(wait: Self.sessionWait)
                guard let sessionId = info.sessionId else {
                    if info.state != .standingBy { try await ready() }
                    continue
                }
                observer.sawInAnswer(sessionId)
                await playMatch(sessionId)
                try await endAndReady(sessionId)
            } catch {
                note("\(error)")
                // The agent's socket is local; a failure is not expected. Back off briefly
                // (waking at once on stop) rather than spin.
                try? await Deadline.waitUntil("stop", timeout: .milliseconds(200)) { self.stopRequested }
            }
        }
    }

    /// Plays until the match is over, the agent takes the session away, or the game is stopped.
    private func playMatch(_ sessionId: String) async {
        let length = control.withLock { control in
            Duration.milliseconds(Int.random(in: control.matchLength, using: &control.random))
        }
        // Timing out is how a match ends normally.
        try? await Deadline.waitUntil("the match to be cut short", timeout: length) {
            self.observer.isTakenAwayUnasked(sessionId) || self.stopRequested
        }
    }

    private func endAndReady(_ sessionId: String) async throws {
        if !observer.isTakenAwayUnasked(sessionId) {
            observer.markEndRequested(sessionId)
            do {
                try await client.endSession()
            } catch let error as AgentClientError where error.status == 409 {
                observer.markEndRefused(sessionId) // the agent had dropped it meanwhile
            }
        }
        try await ready()
    }

    /// `POST /v1/ready`; a 409 means the host holds a session again (the agent took one back
    /// from gsmsd), which the next `GET /v1/session` returns.
    private func ready() async throws {
        do {
            try await client.ready()
        } catch let error as AgentClientError where error.status == 409 {
            return
        }
    }

    private func note(_ error: String) {
        control.withLock { control in
            if control.errors.count < 20 { control.errors.append("\(hostId): \(error)") }
        }
    }
}
