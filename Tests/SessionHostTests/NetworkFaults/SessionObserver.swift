import Foundation
import SessionHostSDK
import Synchronization

/// Everything one game was shown by its agent: it follows the agent's `GET /v1/events` stream
/// (and what the game's own `GET /v1/session` calls return) and records every session the
/// game ever saw, when, and how each one went away: ended by the game, or taken away by the
/// agent. A session the game saw is a session players may have been sent to.
final class SessionObserver: Sendable {
    /// One session as this game saw it.
    struct Sighting: Sendable {
        var sessionId: String
        var seenAt: ContinuousClock.Instant
        /// The agent holds it now, as far as its events say.
        var held = false
        /// The game decided to end it (before calling `POST /v1/session/end`).
        var endRequested = false
        /// The agent refused the game's end: it had already dropped the session.
        var endRefused = false
        /// When it last disappeared from the agent's events, and the agent's reason.
        var goneAt: ContinuousClock.Instant?
        var goneReason: String?
        /// The agent's reasons each time it took the session away without the game ending it
        /// (it may take a session back from gsmsd afterwards, which does not undo this).
        var takenAwayReasons: [String] = []

        /// The agent took the session away, at least once, without the game ending it.
        var takenAway: Bool { !takenAwayReasons.isEmpty || endRefused }
    }

    private struct State {
        var sightings: [String: Sighting] = [:]
        var current: String?
        var hostState: HostState?
        /// A session replaced by another without going away first (the host held two).
        var replacements: [String] = []
        var streamFailure: String?
        var stopped = false
    }

    let hostId: String
    private let state = Mutex(State())
    private let reader = Mutex<Task<Void, Never>?>(nil)

    init(hostId: String) {
        self.hostId = hostId
    }

    /// Follows the agent's event stream until `stop()`.
    func start(client: AgentClient) {
        let task = Task { [self] in
            do {
                for try await event in client.events() {
                    record(event)
                }
                if !state.withLock({ $0.stopped }) { fail("the agent ended its event stream") }
            } catch {
                if !state.withLock({ $0.stopped }) { fail("the event stream failed: \(error)") }
            }
        }
        reader.withLock { $0 = task }
    }

    func stop() {
        state.withLock { $0.stopped = true }
        reader.withLock { $0?.cancel() }
    }

    /// Applies one event of the agent.
    func record(_ event: HostEvent) {
        let now = ContinuousClock.now
        state.withLock { state in
            state.hostState = event.state
            if let current = state.current, current != event.sessionId {
                state.sightings[current]?.held = false
                state.sightings[current]?.goneAt = now
                state.sightings[current]?.goneReason = event.reason
                if state.sightings[current]?.endRequested == false {
                    state.sightings[current]?.takenAwayReasons.append(event.reason ?? "no reason")
                }
                if let next = event.sessionId {
                    state.replacements.append("\(current) replaced by \(next) (\(event.reason ?? "no reason"))")
                }
            }
            if let sessionId = event.sessionId {
                if state.sightings[sessionId] == nil {
                    state.sightings[sessionId] = Sighting(sessionId: sessionId, seenAt: now)
                }
                state.sightings[sessionId]?.held = true
                state.current = sessionId
            } else {
                state.current = nil
            }
        }
    }

    /// The game's own `GET /v1/session` showed `sessionId` (it may come before the event).
    func sawInAnswer(_ sessionId: String) {
        let now = ContinuousClock.now
        state.withLock { state in
            if state.sightings[sessionId] == nil {
                state.sightings[sessionId] = Sighting(sessionId: sessionId, seenAt: now)
            }
        }
    }

    func markEndRequested(_ sessionId: String) {
        state.withLock { $0.sightings[sessionId]?.endRequested = true }
    }

    func markEndRefused(_ sessionId: String) {
        state.withLock { $0.sightings[sessionId]?.endRefused = true }
    }

    private func fail(_ reason: String) {
        state.withLock { $0.streamFailure = "\(hostId): \(reason)" }
    }

    // MARK: Reading

    func sighting(_ sessionId: String) -> Sighting? { state.withLock { $0.sightings[sessionId] } }

    /// Every session seen, oldest first.
    var sightings: [Sighting] { state.withLock { $0.sightings.values.sorted { $0.seenAt < $1.seenAt } } }

    /// Whether the agent no longer holds `sessionId` although the game has not asked to end it.
    func isTakenAwayUnasked(_ sessionId: String) -> Bool {
        state.withLock { state in
            guard let sighting = state.sightings[sessionId] else { return false }
            return sighting.goneAt != nil && !sighting.held && !sighting.endRequested
        }
    }

    /// The game's view: no session, StandingBy.
    var isIdle: Bool { state.withLock { $0.current == nil && $0.hostState == .standingBy } }

    var replacements: [String] { state.withLock { $0.replacements } }

    /// The game's view in words, for failure messages.
    var summary: String {
        state.withLock { state in
            "\(state.hostState?.rawValue ?? "no event yet"), session \(state.current ?? "none"), \(state.sightings.count) seen"
                + (state.streamFailure.map { ", \($0)" } ?? "")
        }
    }

    var streamFailure: String? { state.withLock { $0.streamFailure } }
}
