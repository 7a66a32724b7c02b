/// Exponential backoff with full jitter for retrying gsmsd: each failure doubles the ceiling
/// (from `initial` up to `maximum`) and the wait is a random time below it, so that a fleet of
/// agents does not come back in step after an outage.
struct Backoff: Sendable {
    var initial: Duration = .milliseconds(100)
    var maximum: Duration = .seconds(10)
    private(set) var failures = 0

    /// The wait before the next attempt, counting one more failure.
    mutating func next() -> Duration {
        failures += 1
        let ceiling = min(maximum, initial * Double(1 << min(failures - 1, 20)))
        let milliseconds = Double(ceiling.components.seconds) * 1000 + Double(ceiling.components.attoseconds) / 1e15
        return .milliseconds(Int64(Double.random(in: max(1, milliseconds / 10)...max(1, milliseconds))))
    }

    mutating func reset() { failures = 0 }
}
