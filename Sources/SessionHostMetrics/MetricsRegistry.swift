public import CoreMetrics
public import class Prometheus.PrometheusCollectorRegistry
public import struct Prometheus.PrometheusMetricsFactory

/// The metrics of one daemon: recorded through swift-metrics (`CoreMetrics.Counter`, `Gauge`,
/// `Timer`) into a Prometheus registry that belongs to this object, never to the process, so
/// that two instances (tests start many in one process) never share a value.
///
/// Timers are Prometheus histograms in seconds with `latencyBuckets`. Names carry their unit
/// (`_seconds`, `_total`); labels are few and bounded (no session or host ids).
public final class MetricsRegistry: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory

    /// Buckets for latencies from about a millisecond (an allocation on an idle service) to the
    /// longest hand-off timeout anyone should set: 1, 2.5, 5, 10, 25, 50, 100, 250, 500 ms, 1,
    /// 2.5, 5, 10, 30 s.
    public static let latencyBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    /// The `Content-Type` of `exposition()`: the Prometheus text format 0.0.4.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        self.factory = factory
    }

    /// The counter `name` with `labels` (the same one on every call).
    public func counter(_ name: String, _ labels: [(String, String)] = []) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: name, dimensions: labels, factory: factory)
    }

    /// The gauge `name` with `labels`.
    public func gauge(_ name: String, _ labels: [(String, String)] = []) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory)
    }

    /// The latency histogram `name` with `labels`, in seconds.
    public func timer(_ name: String, _ labels: [(String, String)] = []) -> CoreMetrics.Timer {
        CoreMetrics.Timer(label: name, dimensions: labels, factory: factory)
    }

    /// Every metric, in the Prometheus text format.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}

extension CoreMetrics.Timer {
    /// Records a measured `Duration`.
    public func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
