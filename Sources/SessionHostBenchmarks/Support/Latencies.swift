import Histogram

/// Latencies recorded in nanoseconds in an HdrHistogram (three significant digits, up to two
/// minutes). Each task records into its own and the results are merged.
public struct Latencies: Sendable {
    private(set) var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)

    /// The exact extremes (the histogram keeps three significant digits).
    private var smallest = Int64.max
    private var largest: Int64 = 0

    public init() {}

    /// Records one latency; longer than two minutes counts as two minutes.
    mutating func record(_ duration: Duration) {
        let nanoseconds = max(1, min(duration.nanoseconds, 120_000_000_000))
        _ = histogram.record(UInt64(nanoseconds))
        smallest = min(smallest, nanoseconds)
        largest = max(largest, nanoseconds)
    }

    mutating func merge(_ other: Latencies) {
        histogram.add(other.histogram)
        smallest = min(smallest, other.smallest)
        largest = max(largest, other.largest)
    }

    var count: Int { Int(histogram.totalCount) }

    /// p50/p90/p99/p99.9/max in milliseconds.
    var summary: LatencySummary {
        guard histogram.totalCount > 0 else {
            return LatencySummary(count: 0, minMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0, meanMs: 0)
        }
        func ms(_ nanoseconds: UInt64) -> Double { Report.rounded(Double(nanoseconds) / 1_000_000) }
        // Percentiles are the histogram's values (within 0.1%), kept between the exact extremes.
        func percentile(_ p: Double) -> Double {
            min(max(ms(histogram.valueAtPercentile(p)), ms(UInt64(smallest))), ms(UInt64(largest)))
        }
        return LatencySummary(
            count: count,
            minMs: ms(UInt64(smallest)),
            p50Ms: percentile(50),
            p90Ms: percentile(90),
            p99Ms: percentile(99),
            p999Ms: percentile(99.9),
            maxMs: ms(UInt64(largest)),
            meanMs: Report.rounded(histogram.mean / 1_000_000))
    }
}

extension Duration {
    /// The duration in whole nanoseconds.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
