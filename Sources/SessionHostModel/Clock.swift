#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// Time, injectable: the daemons read durations (timeouts, waits, intervals) from an
// `any Clock<Duration>` (`ContinuousClock()` in production) and dates that are stored or sent
// from a `WallClock` (`.system`). A test passes one manual clock for both, so that advancing it
// moves both together.

/// Where the dates that are stored or sent come from.
public struct WallClock: Sendable {
    private let read: @Sendable () -> Date

    /// A wall clock that reads `read` each time.
    public init(_ read: @escaping @Sendable () -> Date) {
        self.read = read
    }

    /// The current date.
    public var now: Date { read() }

    /// The system's clock: `Date()`.
    public static let system = WallClock { Date() }
}

/// An instant of some `Clock<Duration>` whose type the holder does not know: how far it is from
/// the clock's now, and a sleep until it. Made with `clock.instant(in:)`.
public struct ClockInstant: Sendable {
    private let timeUntil: @Sendable () -> Duration
    private let sleepUntil: @Sendable (Duration?) async throws -> Void
    private let advance: @Sendable (Duration) -> ClockInstant

    init<C: Clock>(clock: C, instant: C.Instant) where C.Duration == Duration {
        timeUntil = { clock.now.duration(to: instant) }
        sleepUntil = { tolerance in try await clock.sleep(until: instant, tolerance: tolerance) }
        advance = { duration in ClockInstant(clock: clock, instant: instant.advanced(by: duration)) }
    }

    /// How long until this instant on its clock; negative once it passed.
    public var remaining: Duration { timeUntil() }

    /// How long since this instant on its clock; negative while it is ahead.
    public var elapsed: Duration { .zero - timeUntil() }

    /// Whether the clock has reached this instant.
    public var hasPassed: Bool { timeUntil() <= .zero }

    /// This instant moved by `duration`, on the same clock.
    public func advanced(by duration: Duration) -> ClockInstant { advance(duration) }

    /// Sleeps until this instant on its clock; throws `CancellationError` when the task is
    /// cancelled first.
    public func sleep(tolerance: Duration? = nil) async throws {
        try await sleepUntil(tolerance)
    }
}

extension Clock where Duration == Swift.Duration {
    /// The instant `duration` from now on this clock (now, by default), type-erased.
    public func instant(in duration: Duration = .zero) -> ClockInstant {
        ClockInstant(clock: self, instant: now.advanced(by: duration))
    }
}
