import SessionHostMetrics
import SessionHostModel

/// The agent's metrics (docs/operations.md, "Metrics"), served by `MetricsHTTPServer` when
/// `--metrics-listen` is set. Labels are bounded: socket paths are the API's routes (anything
/// else counts as `other`), and the host's ids appear only on `sessionhost_agent_info`.
public final class AgentMetrics: Sendable {
    let metrics = MetricsRegistry()

    public init() {}

    /// How a hand-off ended on this agent.
    enum HandoffResult: String {
        /// gsmsd confirmed the acknowledgement: the session is Active and the game sees it.
        case acknowledged
        /// gsmsd refused the acknowledgement (it had moved on): the game never saw the session.
        case refused
        /// gsmsd did not answer the acknowledgement before the hand-off's deadline: given up
        /// (the game never saw it; if gsmsd did confirm it, reconciliation gives it back).
        case abandoned
        /// Could not be saved: not acknowledged.
        case notSaved = "not_saved"
        /// Handed over locally (`sessionhostctl allocate`, local mode).
        case local
    }

    /// A request on the socket was answered with `status`.
    func socketRequestAnswered(path: String, status: Int) {
        let route = GameSocketAPI.routes[path] == nil ? "other" : path
        metrics.counter("sessionhost_agent_socket_requests_total", [("path", route), ("status", String(status))])
            .increment()
        guard status == 200 else { return }
        switch path {
        case "/v1/heartbeat": metrics.counter("sessionhost_agent_game_heartbeats_total").increment()
        case "/v1/local/allocate": handoffEnded(.local)
        default: break
        }
    }

    /// A heartbeat (or registration) to gsmsd succeeded or failed.
    func controlPlaneHeartbeat(succeeded: Bool) {
        metrics.counter("sessionhost_agent_heartbeats_total", [("result", succeeded ? "ok" : "failed")]).increment()
    }

    func handoffEnded(_ result: HandoffResult) {
        metrics.counter("sessionhost_agent_handoffs_total", [("result", result.rawValue)]).increment()
    }

    /// Every metric in the Prometheus text format, with the host's current state.
    func scrape(state: HostState, sessionHostId: String, titleId: String, region: String) -> [UInt8] {
        scrape(hosts: [(1, sessionHostId, state)], titleId: titleId, region: region)
    }

    /// Every metric with each slot's current state. With several slots the state and info
    /// gauges carry a `slot` label (1…N); with one they have none, as they always had.
    /// `sessionhost_agent_draining` is 1 while the VM drains, `sessionhost_agent_drained` once it is drained.
    func scrape(
        hosts: [(slot: Int, sessionHostId: String, state: HostState)], titleId: String, region: String,
        drain: DrainStanding = DrainStanding()
    ) -> [UInt8] {
        metrics.gauge("sessionhost_agent_draining").record(drain.notice == nil ? 0 : 1)
        metrics.gauge("sessionhost_agent_drained").record(drain.drained ? 1 : 0)
        for host in hosts {
            let slot: [(String, String)] = hosts.count > 1 ? [("slot", String(host.slot))] : []
            for candidate in HostState.allCases {
                metrics.gauge("sessionhost_agent_state", slot + [("state", candidate.rawValue)])
                    .record(candidate == host.state ? 1 : 0)
            }
            metrics.gauge(
                "sessionhost_agent_info",
                slot + [("session_host_id", host.sessionHostId), ("title_id", titleId), ("region", region)]
            ).record(1)
        }
        return metrics.exposition()
    }
}
