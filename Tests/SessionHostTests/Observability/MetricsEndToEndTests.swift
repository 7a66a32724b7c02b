import Foundation
import SessionHostModel
import SessionHostSDK
import Testing

/// The real gsmsd and real agents serve a session; `/metrics` of both is read with the
/// Prometheus project's own parser (prometheus_client) and its values checked.
@Suite("metrics end to end", .serialized)
struct MetricsEndToEndTests {
    static let sessions = [
        "6f0e1c2a-0000-4000-8000-000000000001", "6f0e1c2a-0000-4000-8000-000000000002",
        "6f0e1c2a-0000-4000-8000-000000000003",
    ]

    static func scrape(_ client: HTTPTestClient) async throws -> PrometheusTextParser.Exposition {
        let answer = try await client.send(.GET, "/metrics")
        guard answer.status == 200 else { throw TestFailure("GET /metrics: \(answer)") }
        #expect(answer.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        return try await PrometheusTextParser.parse(answer.text)
    }

    /// The port of the agent's metrics listener, from its log line `serving metrics address=HOST:PORT`.
    static func metricsPort(_ agent: AgentProcess) async throws -> Int {
        var port: Int?
        try await Deadline.waitUntil("the agent to serve its metrics", timeout: .seconds(20)) {
            guard let line = agent.log.split(separator: "\n").first(where: { $0.contains(#"msg="serving metrics""#) }),
                let field = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }),
                let number = field.split(separator: ":").last.flatMap({ Int($0) })
            else { return false }
            port = number
            return true
        }
        return try #require(port)
    }

    @Test("gsmsd: hosts by title, region and state, allocations by result, latencies, queue and heartbeats")
    func gsmsdMetrics() async throws {
        let gsms = try await GSMSProcess()
        var agents: [AgentProcess] = []
        for host in ["vm-1", "vm-2"] {
            let agent = try await EndToEndHandoffTests.agent(gsms, hostId: host)
            _ = try await AgentClient(socketPath: agent.socketPath).ready()
            agents.append(agent)
        }
        for host in ["vm-1", "vm-2"] { try await EndToEndHandoffTests.waitForHost(gsms, host, state: "StandingBy") }

        let before = try await Self.scrape(gsms.client)
        #expect(before.value("gsms_hosts", ["title_id": "1234", "region": "WestUS", "state": "StandingBy"]) == 2)
        #expect(before.value("gsms_hosts", ["title_id": "1234", "region": "WestUS", "state": "Active"]) == 0)
        #expect(before.value("gsms_queue_length", ["title_id": "1234"]) == 0)
        #expect(
            before.value("gsms_queue_length", ["title_id": "5678"]) == 0, "every subscribed title reports its queue")
        #expect(before.value("gsms_inventory_up") == 1)
        #expect(before.samples("gsms_allocations_total").isEmpty)

        // One allocation: 200.
        let first = try await gsms.allocate(["sessionId": Self.sessions[0], "locations": ["West US"]])
        #expect(first.status == 200, "\(first)")
        let one = try await Self.scrape(gsms.client)
        #expect(one.families["gsms_allocations"]?.type == "counter")
        #expect(one.value("gsms_allocations_total", ["title_id": "1234", "result": "200"]) == 1)
        #expect(one.value("gsms_hosts", ["title_id": "1234", "region": "WestUS", "state": "StandingBy"]) == 1)
        #expect(one.value("gsms_hosts", ["title_id": "1234", "region": "WestUS", "state": "Active"]) == 1)
        #expect(one.value("gsms_hosts", ["title_id": "1234", "region": "WestUS", "state": "Unhealthy"]) == 0)
        #expect(one.families["gsms_allocation_duration_seconds"]?.type == "histogram")
        #expect(one.value("gsms_allocation_duration_seconds_count", ["title_id": "1234"]) == 1)
        #expect(one.value("gsms_allocation_duration_seconds_bucket", ["title_id": "1234", "le": "+Inf"]) == 1)
        #expect((one.value("gsms_allocation_duration_seconds_sum", ["title_id": "1234"]) ?? 0) > 0)
        #expect(
            one.samples("gsms_allocation_duration_seconds_bucket", ["title_id": "1234"]).count == 15,
            "14 buckets and +Inf")
        #expect(one.value("gsms_handoffs_total", ["title_id": "1234", "result": "acknowledged"]) == 1)
        #expect(one.value("gsms_handoff_duration_seconds_count", ["title_id": "1234"]) == 1)

        // The second host, then the pool is exhausted: 503, and the StandingBy gauge is 0.
        #expect(try await gsms.allocate(["sessionId": Self.sessions[1]]).status == 200)
        #expect(try await gsms.allocate(["sessionId": Self.sessions[2]]).status == 503)
        // A request without a valid token: 401. One for a title without a subscription: 404,
        // counted under title_id="" (label values stay within the subscribed titles).
        let refused = try await gsms.client.send(
            .POST, "/titles/1234/sessionhosts", headers: [("Authorization", "XBL3.0 x=-;nope")])
        #expect(refused.status == 401)
        let unknown = try await gsms.allocate(title: "9999", ["sessionId": Self.sessions[2]])
        #expect(unknown.status == 404, "\(unknown)")
        // A cluster request queues (no host is free).
        let path = "/serviceconfigs/00000000-0000-0000-0000-000000000000/sessiontemplates/quick/session/metrics"
        #expect(try await gsms.cluster(["sessionId": path]).json["fulfillmentState"] as? String == "Queued")

        let exhausted = try await Self.scrape(gsms.client)
        #expect(exhausted.value("gsms_allocations_total", ["title_id": "1234", "result": "200"]) == 2)
        #expect(exhausted.value("gsms_allocations_total", ["title_id": "1234", "result": "503"]) == 1)
        #expect(exhausted.value("gsms_allocations_total", ["title_id": "1234", "result": "401"]) == 1)
        #expect(exhausted.value("gsms_allocations_total", ["title_id": "", "result": "404"]) == 1)
        #expect(exhausted.samples("gsms_allocations_total", ["title_id": "9999"]).isEmpty)
        #expect(
            exhausted.value("gsms_allocation_duration_seconds_count", ["title_id": "1234"]) == 2, "only 200s are timed")
        #expect(exhausted.value("gsms_hosts", ["title_id": "1234", "region": "WestUS", "state": "StandingBy"]) == 0)
        #expect(exhausted.value("gsms_hosts", ["title_id": "1234", "region": "WestUS", "state": "Active"]) == 2)
        #expect(exhausted.value("gsms_cluster_requests_total", ["title_id": "1234", "result": "Queued"]) == 1)
        #expect(exhausted.value("gsms_queue_length", ["title_id": "1234"]) == 1)
        #expect((exhausted.value("gsms_queue_oldest_wait_seconds", ["title_id": "1234"]) ?? -1) >= 0)

        // Agents heartbeat: counted per title.
        try await Deadline.waitUntilAsync("heartbeats in gsmsd's metrics", timeout: .seconds(20)) {
            (try await Self.scrape(gsms.client).value("gsms_agent_heartbeats_total", ["title_id": "1234"]) ?? 0) >= 1
        }
        for agent in agents { try await agent.stop() }
        try await gsms.stop()
    }

    @Test("sessionhostd --metrics-listen: state, hand-offs, heartbeats and socket requests")
    func agentMetrics() async throws {
        let gsms = try await GSMSProcess()
        let agent = try await EndToEndHandoffTests.agent(
            gsms, hostId: "vm-1", extra: ["--metrics-listen", "127.0.0.1:0"])
        let metrics = HTTPTestClient(host: "127.0.0.1", port: try await Self.metricsPort(agent))
        let game = AgentClient(socketPath: agent.socketPath)

        let initial = try await Self.scrape(metrics)
        #expect(initial.value("sessionhost_agent_state", ["state": "Initializing"]) == 1)
        #expect(initial.value("sessionhost_agent_state", ["state": "Active"]) == 0)
        #expect(
            initial.value(
                "sessionhost_agent_info", ["session_host_id": "vm-1", "title_id": "1234", "region": "WestUS"]) == 1)

        _ = try await game.ready()
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy")
        #expect(try await gsms.allocate(["sessionId": Self.sessions[0]]).status == 200)
        _ = try await game.heartbeat(HeartbeatRequest(health: .healthy))
        _ = try await game.heartbeat(HeartbeatRequest(health: .healthy))
        let unknown = try RawHTTP.exchange(
            socketPath: agent.socketPath,
            request: Array("GET /v1/nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        #expect(RawHTTP.statusCode(of: unknown) == 404)

        let active = try await Self.scrape(metrics)
        for state in HostState.allCases {
            #expect(
                active.value("sessionhost_agent_state", ["state": state.rawValue]) == (state == .active ? 1 : 0),
                "\(state)")
        }
        #expect(active.value("sessionhost_agent_handoffs_total", ["result": "acknowledged"]) == 1)
        #expect(active.value("sessionhost_agent_game_heartbeats_total") == 2)
        #expect(active.value("sessionhost_agent_socket_requests_total", ["path": "/v1/ready", "status": "200"]) == 1)
        #expect(
            active.value("sessionhost_agent_socket_requests_total", ["path": "/v1/heartbeat", "status": "200"]) == 2)
        #expect(active.value("sessionhost_agent_socket_requests_total", ["path": "other", "status": "404"]) == 1)
        try await Deadline.waitUntilAsync("a heartbeat to gsmsd in the agent's metrics", timeout: .seconds(20)) {
            (try await Self.scrape(metrics).value("sessionhost_agent_heartbeats_total", ["result": "ok"]) ?? 0) >= 1
        }

        #expect(try await metrics.send(.GET, "/other").status == 404)
        #expect(try await metrics.send(.POST, "/metrics").status == 405)
        try await agent.stop()
        try await gsms.stop()
    }

    @Test("an address that cannot be bound leaves the agent serving its game, without metrics")
    func agentMetricsAddressTaken() async throws {
        let gsms = try await GSMSProcess()
        let taken = "127.0.0.1:\(gsms.client.port)"
        let agent = try await AgentProcess.started(arguments: ["--title-id", "1234", "--metrics-listen", taken])
        #expect(try await AgentClient(socketPath: agent.socketPath).ready().state == .standingBy)
        try await Deadline.waitUntil("the agent to say it runs without metrics") {
            agent.log.contains("cannot serve metrics; the agent runs without them")
        }
        #expect(try await AgentClient(socketPath: agent.socketPath).host().state == .standingBy)
        try await agent.stop()
        try await gsms.stop()
    }

    @Test("without --metrics-listen the agent serves no metrics")
    func agentMetricsAreOptIn() async throws {
        let agent = try await AgentProcess.started(arguments: ["--title-id", "1234"])
        _ = try await AgentClient(socketPath: agent.socketPath).ready()
        #expect(!agent.log.contains("serving metrics"))
        try await agent.stop()
    }
}
