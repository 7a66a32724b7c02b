/// When and how long ``TitleClient`` waits before sending a call again.
///
/// A call is sent again only after a transient failure: HTTP 408, 429, 500, 502, 503 or 504, or
/// no answer at all (connection refused or reset, timeout). Every other status is final. The wait
/// before attempt *n + 1* is chosen with exponential backoff and full jitter, a random duration
/// between zero and `min(maximumDelay, baseDelay × 2^(n-1))`. When the answer carries
/// `Retry-After: SECONDS`, the wait is at least that long instead (plus a jitter of up to
/// `baseDelay`, so that many callers do not come back at the same instant). No wait is ever
/// longer than `maximumDelay`, so a `Retry-After` above it is shortened to `maximumDelay`.
public struct RetryPolicy: Sendable, Equatable {
    /// The most times one call is sent, the first included; 1 means never retry.
    public var maximumAttempts: Int
    /// The backoff unit: the first retry waits up to this long.
    public var baseDelay: Duration
    /// The longest single wait between two attempts, `Retry-After` included.
    public var maximumDelay: Duration

    /// - Parameters:
    ///   - maximumAttempts: at least 1 (smaller values count as 1).
    ///   - baseDelay: the backoff unit; negative values count as zero.
    ///   - maximumDelay: the cap on every wait; negative values count as zero.
    public init(maximumAttempts: Int, baseDelay: Duration, maximumDelay: Duration) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.baseDelay = max(.zero, baseDelay)
        self.maximumDelay = max(.zero, maximumDelay)
    }

    /// Four attempts, a 250 ms base and a 30 s cap, as docs/rest-api.md recommends.
    public static let `default` = RetryPolicy(
        maximumAttempts: 4, baseDelay: .milliseconds(250), maximumDelay: .seconds(30))

    /// Send every call once.
    public static let never = RetryPolicy(maximumAttempts: 1, baseDelay: .zero, maximumDelay: .zero)

    /// The statuses worth sending again (SPEC §2): 408, 429, 500, 502, 503, 504.
    public static let retryableStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]

    /// Whether an answer with `status` may be retried.
    public static func isRetryable(status: Int) -> Bool { retryableStatuses.contains(status) }

    /// The wait before the attempt after `attempt` (1-based), given the answer's `Retry-After`
    /// in seconds, if any. `random` draws a number in `0...1`.
    public func delay(
        afterAttempt attempt: Int, retryAfterSeconds: Int?, random: () -> Double = { Double.random(in: 0...1) }
    ) -> Duration {
        let unit = baseDelay.seconds
        let delay: Double
        if let retryAfterSeconds, retryAfterSeconds >= 0 {
            delay = Double(retryAfterSeconds) + random() * unit
        } else {
            let exponent = Double(min(max(attempt - 1, 0), 62))
            delay = random() * min(maximumDelay.seconds, unit * pow2(exponent))
        }
        return .nanoseconds(Int64((min(delay, maximumDelay.seconds) * 1e9).rounded(.down)))
    }

    private func pow2(_ exponent: Double) -> Double {
        var value = 1.0
        var remaining = Int(exponent)
        while remaining > 0 && value < 1e12 {
            value *= 2
            remaining -= 1
        }
        return value
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
