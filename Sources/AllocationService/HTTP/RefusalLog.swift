import Logging
import Synchronization

/// Logs the error answers gsmsd gives, with their correlation id, so that an operator can find
/// any refusal a caller quotes: at info (4xx, and 503 when no host is free; failures of the
/// store and unexpected errors are logged as errors where they are caught). A refused agent (a wrong fleet secret or host key, an unsubscribed title:
/// any 4xx but 409 on `/agent/`) is a warning, since that host cannot join the pool; it is
/// logged the first time for each host and code, then at most once a minute with the count of
/// refusals left out in between.
final class RefusalLog: Sendable {
    /// How often the same refusal of the same agent is logged again.
    static let repeatInterval: Duration = .seconds(60)
    /// Agents and codes remembered at most; beyond that the oldest are forgotten.
    static let capacity = 4096

    private struct Seen {
        var lastLogged: ContinuousClock.Instant
        var suppressed: Int
    }

    private let logger: Logger
    private let metrics: GSMSMetrics?
    private let seen = Mutex<[String: Seen]>([:])

    init(logger: Logger, metrics: GSMSMetrics?) {
        self.logger = logger
        self.metrics = metrics
    }

    /// `hostId` names the host refused inside a call for several hosts (`/agent/v1/sync`);
    /// otherwise it is read from the path.
    func answered(
        method: String, path: String, status: Int, code: String, message: String, correlationId: String,
        hostId: String? = nil
    ) {
        guard status >= 400 else { return }
        var metadata: Logger.Metadata = [
            "method": "\(method)", "path": "\(path.prefix(200))", "status": "\(status)", "code": "\(code)",
            "correlation_id": "\(correlationId)",
        ]
        if Self.isAgentRefusal(path: path, status: status) {
            metrics?.agentRefused(code: code)
            let host = hostId ?? Self.hostId(in: path) ?? "?"
            guard let suppressed = shouldLog(key: host + " " + code) else { return }
            metadata["session_host_id"] = "\(host.prefix(128))"
            if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
            logger.warning("agent refused: \(message)", metadata: metadata)
        } else {
            logger.info("request refused: \(message)", metadata: metadata)
        }
    }

    static func isAgentRefusal(path: String, status: Int) -> Bool {
        path.hasPrefix("/agent/") && (400..<500).contains(status) && status != 409
    }

    /// `vm-1` in `/agent/v1/hosts/vm-1/…`.
    static func hostId(in path: String) -> String? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        guard segments.count >= 4, segments[2] == "hosts" else { return nil }
        return String(segments[3])
    }

    /// The number of refusals left out since the last line when this one is to be logged, else nil.
    private func shouldLog(key: String) -> Int? {
        let now = ContinuousClock.now
        return seen.withLock { seen -> Int? in
            if var entry = seen[key] {
                guard now - entry.lastLogged >= Self.repeatInterval else {
                    entry.suppressed += 1
                    seen[key] = entry
                    return nil
                }
                seen[key] = Seen(lastLogged: now, suppressed: 0)
                return entry.suppressed
            }
            if seen.count >= Self.capacity {
                // Forget the agent logged longest ago; a refusal logged twice is better than memory without bound.
                if let oldest = seen.min(by: { $0.value.lastLogged < $1.value.lastLogged })?.key {
                    seen.removeValue(forKey: oldest)
                }
            }
            seen[key] = Seen(lastLogged: now, suppressed: 0)
            return 0
        }
    }
}
