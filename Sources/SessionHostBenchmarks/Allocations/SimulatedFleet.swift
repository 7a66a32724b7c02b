import Foundation
import NIOCore
import SessionHostModel
import Synchronization

/// H simulated agents that speak gsmsd's agent API as `sessionhostd` does
/// (docs/control-plane-api.md): each registers its host StandingBy with `PUT`, holds
/// `GET …/handoff?wait=30`, acknowledges a hand-off with `POST …/ack`, ends the session at once
/// (or after `sessionLength`) with `POST …/end` and returns to the pool with a heartbeat
/// `{"state":"StandingBy","health":"Healthy"}`. Every host also heartbeats at the interval gsmsd
/// asks for, spread evenly over time.
final class SimulatedFleet: Sendable {
    /// Hosts per HTTP client: each host holds one connection for its poll.
    static let hostsPerClient = 250

    let hostIds: [String]
    let region: String
    private let clients: [ServiceHTTP]
    private let authorization: (String, String)
    private let sessionLength: Duration
    private let state = Mutex(Counters())

    private struct Counters {
        var started: ContinuousClock.Instant?
        var stopped: ContinuousClock.Instant?
        var interval: Duration = .seconds(5)
        var cycles = 0
        var heartbeats = 0
        var errors = 0
        var lastError: String?
    }

    init(hosts: Int, region: String, gsmsd: GSMSDaemon, sessionLength: Duration, group: any EventLoopGroup) {
        hostIds = (0..<hosts).map { String(format: "sim-%05d", $0) }
        self.region = region
        let clientCount = max(1, (hosts + Self.hostsPerClient - 1) / Self.hostsPerClient)
        clients = (0..<clientCount).map { _ in
            ServiceHTTP.make(baseURL: gsmsd.baseURL, connections: Self.hostsPerClient + 16, group: group)
        }
        authorization = ("Authorization", "Bearer " + gsmsd.fleetSecret)
        self.sessionLength = sessionLength
    }

    var result: SimulatedAgentsResult {
        state.withLock { counters in
            let seconds = counters.started.map { ((counters.stopped ?? .now) - $0).seconds } ?? 0
            return SimulatedAgentsResult(
                cycles: counters.cycles, heartbeats: counters.heartbeats,
                heartbeatsPerSecond: seconds > 0 ? Report.rounded(Double(counters.heartbeats) / seconds) : 0,
                heartbeatsPerSecondAsked: Report.rounded(Double(hostIds.count) / counters.interval.seconds),
                errors: counters.errors, lastError: counters.lastError)
        }
    }

    private func client(_ index: Int) -> ServiceHTTP { clients[index / Self.hostsPerClient] }

    private func path(_ index: Int) -> String { "/agent/v1/hosts/" + hostIds[index] }

    /// The fleet secret and the simulated host's own key (gsmsd binds each host id to one key).
    private func headers(_ index: Int) -> [(String, String)] {
        [authorization, ("SessionHost-Key", "simulated-host-key-" + hostIds[index] + "-0123456789abcdef")]
    }

    private func failed(_ what: String, _ error: any Error) {
        state.withLock {
            $0.errors += 1
            $0.lastError = "\(what): \(error)"
        }
    }

    /// Registers every host StandingBy, `concurrency` at a time; returns the heartbeat interval
    /// gsmsd asks for.
    func register(concurrency: Int) async throws -> (RegistrationResult, heartbeatInterval: Duration) {
        let ticket = Ticket()
        let started = ContinuousClock.now
        let intervals = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<max(1, min(concurrency, hostIds.count)) {
                group.addTask {
                    var interval = 5000
                    while true {
                        let index = ticket.take()
                        guard index < self.hostIds.count else { break }
                        let registration = HostRegistration(
                            titleId: GSMSDaemon.titleId, region: self.region,
                            hostName: self.hostIds[index] + ".bench.invalid",
                            portMappings: [PortMapping(name: "game", internal: 7777, external: 30000 + index % 30000)],
                            secureContext: "", state: .standingBy, health: .healthy)
                        let answer = try await self.client(index).send(
                            .PUT, self.path(index), headers: self.headers(index), json: registration)
                        guard answer.status == 200 else {
                            throw BenchError(
                                "registering \(self.hostIds[index]) answered \(answer.status) \(answer.errorCode)")
                        }
                        interval = try answer.decode(HostStatus.self).heartbeatIntervalMilliseconds
                    }
                    return interval
                }
            }
            var all: [Int] = []
            for try await interval in group { all.append(interval) }
            return all
        }
        let seconds = (ContinuousClock.now - started).seconds
        let result = RegistrationResult(
            hosts: hostIds.count, seconds: Report.rounded(seconds),
            perSecond: Report.rounded(Double(hostIds.count) / seconds))
        return (result, .milliseconds(intervals.min() ?? 5000))
    }

    /// Serves hand-offs and heartbeats until the task is cancelled.
    func run(heartbeatInterval: Duration) async {
        state.withLock {
            $0.started = .now
            $0.interval = heartbeatInterval
        }
        defer { state.withLock { $0.stopped = .now } }
        await withDiscardingTaskGroup { group in
            for index in hostIds.indices {
                group.addTask { await self.serve(index) }
            }
            let heartbeaters = min(16, hostIds.count)
            for first in 0..<heartbeaters {
                group.addTask {
                    await self.heartbeat(
                        every: heartbeatInterval,
                        hosts: Array(stride(from: first, to: self.hostIds.count, by: heartbeaters)))
                }
            }
        }
    }

    private var standingBy: HostHeartbeat { HostHeartbeat(state: .standingBy, health: .healthy) }

    /// One agent's hand-off loop.
    private func serve(_ index: Int) async {
        let http = client(index)
        let path = path(index)
        while !Task.isCancelled {
            do {
                let poll = try await http.send(
                    .GET, path + "/handoff?wait=30", headers: headers(index), timeout: .seconds(45))
                guard poll.status == 200 else {
                    throw BenchError("handoff poll answered \(poll.status) \(poll.errorCode)")
                }
                guard let handoff = try poll.decode(HandoffPoll.self).handoff else { continue }
                let session = HostSessionReference(sessionId: handoff.sessionId)
                try await expectOK(http.send(.POST, path + "/ack", headers: headers(index), json: session), "ack")
                if sessionLength > .zero { try await Task.sleep(for: sessionLength) }
                try await expectOK(http.send(.POST, path + "/end", headers: headers(index), json: session), "end")
                try await expectOK(
                    http.send(.POST, path + "/heartbeat", headers: headers(index), json: standingBy), "heartbeat")
                state.withLock { $0.cycles += 1 }
            } catch {
                if Task.isCancelled { return }
                failed(hostIds[index], error)
                try? await Task.sleep(for: .milliseconds(100))
                // Back to the pool, whatever went wrong.
                _ = try? await http.send(.POST, path + "/heartbeat", headers: headers(index), json: standingBy)
            }
        }
    }

    /// Heartbeats `hosts` round after round, one every `interval / hosts.count`.
    private func heartbeat(every interval: Duration, hosts: [Int]) async {
        guard !hosts.isEmpty else { return }
        let spacing = interval / hosts.count
        // Start at a random point of the round so that the heartbeaters do not beat in step.
        try? await Task.sleep(for: spacing * Double.random(in: 0..<1))
        var next = ContinuousClock.now
        while !Task.isCancelled {
            for index in hosts {
                next += spacing
                do {
                    try await expectOK(
                        client(index).send(
                            .POST, path(index) + "/heartbeat", headers: headers(index), json: standingBy), "heartbeat")
                    state.withLock { $0.heartbeats += 1 }
                } catch {
                    if Task.isCancelled { return }
                    failed(hostIds[index] + " heartbeat", error)
                }
                do {
                    try await Task.sleep(until: next, clock: .continuous)
                } catch {
                    return
                }
            }
        }
    }

    private func expectOK(_ answer: ServiceHTTP.Answer, _ what: String) throws {
        guard answer.status == 200 else { throw BenchError("\(what) answered \(answer.status) \(answer.errorCode)") }
    }

    func shutdown() async {
        for client in clients { await client.shutdown() }
    }
}
