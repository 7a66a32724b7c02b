/// Recommends `pollIntervalMilliseconds` for cluster requests from what it measures per title:
/// the rate of cluster requests, the rate of fulfilments, and the caller's place in the queue
/// (SPEC §2: "a recommendation derived from the queue length and the measured request and
/// fulfilment rates, not a constant").
///
/// The estimate of the wait is `position / fulfilmentRate` (with a floor rate while nothing has
/// been fulfilled yet); the recommendation is a quarter of it, so a caller polls about four times
/// before its turn, stretched when requests arrive faster than 50 a second, and kept within
/// `minimum…maximum`. Times are durations since an origin of the caller's monotonic clock.
struct PollIntervalAdvisor: Sendable {
    static let minimum: Duration = .milliseconds(250)
    static let maximum: Duration = .seconds(10)
    /// Rates are measured over this window.
    static let window: Duration = .seconds(60)

    private var requests = EventRate()
    private var fulfilments = EventRate()

    mutating func recordRequest(at now: Duration) { requests.record(at: now, window: Self.window) }

    mutating func recordFulfilment(at now: Duration) { fulfilments.record(at: now, window: Self.window) }

    /// The recommended interval for a caller at `position` in the queue (1-based); `maximumInterval`
    /// caps it below the time after which an unpolled request expires.
    func interval(position: Int, at now: Duration, maximumInterval: Duration) -> Duration {
        let fulfilmentRate = max(fulfilments.perSecond(at: now, window: Self.window), 0.2)
        let requestRate = requests.perSecond(at: now, window: Self.window)
        var seconds = Double(max(position, 1)) / fulfilmentRate / 4
        if requestRate > 50 { seconds *= requestRate / 50 }
        let upper = min(Self.maximum, maximumInterval).timeInterval
        let clamped = min(max(seconds, Self.minimum.timeInterval), max(upper, Self.minimum.timeInterval))
        return .milliseconds(Int64((clamped * 1000).rounded()))
    }
}

/// Counts events in a sliding window, in one-second buckets. Times are durations since an origin
/// of the caller's monotonic clock.
struct EventRate: Sendable {
    private var buckets: [(second: Int64, count: Int)] = []

    mutating func record(at now: Duration, window: Duration) {
        let second = Self.second(of: now)
        if let last = buckets.last, last.second == second {
            buckets[buckets.count - 1].count += 1
        } else {
            buckets.append((second, 1))
        }
        let oldest = second - window.components.seconds
        if let first = buckets.first, first.second < oldest {
            buckets.removeAll { $0.second < oldest }
        }
    }

    /// Events per second over the window (or over the time since the first event, if shorter).
    func perSecond(at now: Duration, window: Duration) -> Double {
        let second = Self.second(of: now)
        let oldest = second - window.components.seconds
        let live = buckets.filter { $0.second >= oldest }
        guard let first = live.first else { return 0 }
        let span = Double(max(second - first.second + 1, 1))
        return Double(live.reduce(0) { $0 + $1.count }) / span
    }

    /// Whole seconds since the origin.
    private static func second(of time: Duration) -> Int64 {
        time.components.seconds
    }
}
