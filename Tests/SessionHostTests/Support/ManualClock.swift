import Foundation
import SessionHostModel
import Synchronization

/// A clock that only moves when the test says so: `advance(by:)` moves it and resumes, in the
/// order of their deadlines, the sleepers whose deadline it reached. Its `wallClock` moves with
/// it, so a component given both sees one time.
///
/// To advance only once a component sleeps, a test waits for it with `waitForSleepers`: no real
/// time passes in between, and nothing is polled.
final class ManualClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        /// Time since the clock started.
        var offset: Duration

        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [UInt64: Sleeper] = [:]
        /// Sleepers cancelled before they suspended.
        var cancelled: Set<UInt64> = []
        var nextId: UInt64 = 0
        /// Tests waiting for a number of sleepers.
        var watchers: [UInt64: (count: Int, continuation: CheckedContinuation<Void, Never>)] = [:]
        var cancelledWatchers: Set<UInt64> = []
    }

    private let state = Mutex(State())
    /// The wall time at the start.
    let startDate: Date

    /// `startDate` is the wall time at the start: now, by default, so that dates a component takes
    /// from the system clock stay close to this clock's (while the test has not advanced it).
    init(startDate: Date = Date()) {
        self.startDate = startDate
    }

    var now: Instant { state.withLock { $0.now } }

    var minimumResolution: Duration { .zero }

    /// Dates that move with this clock.
    var wallClock: WallClock {
        WallClock { [self] in startDate + now.offset.seconds }
    }

    /// How many tasks sleep on this clock now.
    var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state in
            state.nextId += 1
            return state.nextId
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (resume, watchers) = state.withLock {
                    state -> (Result<Void, any Error>?, [CheckedContinuation<Void, Never>]) in
                    if state.cancelled.remove(id) != nil { return (.failure(CancellationError()), []) }
                    if deadline <= state.now { return (.success(()), []) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return (nil, Self.satisfiedWatchers(&state))
                }
                if let resume { continuation.resume(with: resume) }
                for watcher in watchers { watcher.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let sleeper = state.sleepers.removeValue(forKey: id) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return sleeper
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        state.withLock { _ = $0.cancelled.remove(id) }
    }

    /// Moves the clock by `duration` and resumes every sleeper whose deadline it reached,
    /// earliest deadline first.
    func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers[id] = nil }
            return due.values.sorted { $0.deadline < $1.deadline }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Returns once at least `count` tasks sleep on this clock; fails after `timeout` of real
    /// time (a component that does not sleep on this clock never gets there).
    func waitForSleepers(_ count: Int = 1, timeout: Duration = .seconds(30)) async throws {
        try await Deadline.within(timeout, "\(count) sleeper(s) on the manual clock") {
            await self.sleepers(count)
        }
    }

    /// Advances by `duration` once at least `count` tasks sleep on this clock.
    func advance(by duration: Duration, afterSleepers count: Int) async throws {
        try await waitForSleepers(count)
        advance(by: duration)
    }

    private func sleepers(_ count: Int) async {
        let id = state.withLock { state in
            state.nextId += 1
            return state.nextId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.cancelledWatchers.remove(id) != nil || state.sleepers.count >= count { return true }
                    state.watchers[id] = (count, continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let watcher = state.withLock { state in
                guard let watcher = state.watchers.removeValue(forKey: id) else {
                    state.cancelledWatchers.insert(id)
                    return nil as CheckedContinuation<Void, Never>?
                }
                return watcher.continuation
            }
            watcher?.resume()
        }
        state.withLock { _ = $0.cancelledWatchers.remove(id) }
    }

    private static func satisfiedWatchers(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        let count = state.sleepers.count
        let satisfied = state.watchers.filter { $0.value.count <= count }
        for id in satisfied.keys { state.watchers[id] = nil }
        return satisfied.values.map(\.continuation)
    }
}

extension Duration {
    /// The duration in seconds, for `Date` arithmetic.
    fileprivate var seconds: TimeInterval {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
