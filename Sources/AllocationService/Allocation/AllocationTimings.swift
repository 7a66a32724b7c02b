import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The timeouts that govern allocations, and the clocks they are read against: `clock` times
/// waits and intervals, `wallClock` dates what is stored (a test passes one manual clock for both).
struct AllocationTimings: Sendable {
    var handoffTimeout: Duration
    var hostTimeout: Duration
    var queueTimeout: Duration
    var clock: any Clock<Duration> = ContinuousClock()
    var wallClock: WallClock = .system

    /// Now on the wall clock: the time of what is stored.
    var now: Date { wallClock.now }

    /// How often agents are asked to heartbeat: three per host timeout.
    var heartbeatInterval: Duration { hostTimeout / 3 }

    func liveSince(_ now: Date) -> Date { now - hostTimeout.timeInterval }

    func acknowledgeBy(_ now: Date) -> Date { now + handoffTimeout.timeInterval }
}

extension Duration {
    /// The duration in seconds, as `Date` arithmetic wants it.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    var milliseconds: Int { Int((timeInterval * 1000).rounded()) }
}
