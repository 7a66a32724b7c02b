import Foundation
import Synchronization

/// The title's side of a scenario. It calls gsmsd's public API from the root namespace (local
/// delivery: its own traffic never crosses the faulty links) and checks each 200 at once:
/// gsmsd's look-up names the same host, and gsmsd no longer holds that host's previous
/// session. (Whether the host's game was shown the session is checked at the end, from the
/// complete record of what each game saw.)
final class TitleDriver: Sendable {
    let fleet: FaultFleet
    let ledger: AllocationLedger
    /// Goes into every session id, so that ids name their scenario in logs.
    let scenarioNumber: Int
    private let authorization: (String, String)
    private let serial = Mutex(0)

    /// The longest a call to gsmsd may take (an allocation waits at most for the hand-off
    /// timeout of each candidate host): a hung gsmsd fails the scenario instead of hanging it.
    static let callTimeout: Duration = .seconds(30)

    init(fleet: FaultFleet, ledger: AllocationLedger, scenarioNumber: Int) async throws {
        self.fleet = fleet
        self.ledger = ledger
        self.scenarioNumber = scenarioNumber
        authorization = try await GSMSProcess.authorization([FaultFleet.title])
    }

    // MARK: One allocation

    /// `POST /titles/1234/sessionhosts` for a new session, recorded and, when answered 200, checked.
    @discardableResult
    func allocate(locations: [String], purpose: AllocationLedger.Purpose) async -> (
        AllocationLedger.Attempt, retryAfter: Duration?
    ) {
        let number = serial.withLock { serial -> Int in
            serial += 1
            return serial
        }
        let sessionId = String(format: "%08x-0000-4000-8000-%012x", scenarioNumber, number)
        var attempt = AllocationLedger.Attempt(
            sessionId: sessionId, locations: locations, purpose: purpose, status: nil, hostId: nil, failure: nil,
            answeredAt: .now)
        var retryAfter: Duration?
        do {
            var body: [String: Any] = ["sessionId": sessionId, "sessionCookie": "cookie-\(sessionId)"]
            if !locations.isEmpty { body["locations"] = locations }
            let request = try JSONSerialization.data(withJSONObject: body)
            let (client, authorization) = (fleet.gsms.client, authorization)
            let answer = try await Deadline.within(Self.callTimeout, "POST /titles/\(FaultFleet.title)/sessionhosts") {
                try await client.send(
                    .POST, "/titles/\(FaultFleet.title)/sessionhosts", headers: [authorization], body: [UInt8](request))
            }
            attempt.answeredAt = .now
            attempt.status = answer.status
            if answer.status == 200 {
                attempt.hostId = answer.json["sessionHostId"] as? String
            } else {
                attempt.failure = answer.json["code"] as? String ?? String(answer.text.prefix(200))
                retryAfter = answer.header("Retry-After").flatMap(Int.init).map { .seconds($0) }
            }
        } catch {
            attempt.answeredAt = .now
            attempt.failure = "\(error)"
        }
        ledger.record(attempt)
        if attempt.status == 200 { await verifyGrant(attempt) }
        return (attempt, retryAfter)
    }

    /// The checks a 200 must pass right away.
    private func verifyGrant(_ attempt: AllocationLedger.Attempt) async {
        let sessionId = attempt.sessionId
        guard let hostId = attempt.hostId, let host = fleet.host(hostId) else {
            ledger.addViolation(
                "false-200: the 200 for \(sessionId) names \(attempt.hostId ?? "no host"), not a host of the fleet")
            return
        }
        if !attempt.locations.isEmpty && !attempt.locations.contains(host.region) {
            ledger.addViolation(
                "false-200: \(sessionId) was asked for in \(attempt.locations) but given to \(hostId) in \(host.region)"
            )
        }
        let observer = host.game.observer
        do {
            let lookUp = try await lookUp(sessionId)
            let endedByGame = observer.sighting(sessionId)?.endRequested == true
            if !(lookUp.status == 200 && lookUp.hostId == hostId) && !(lookUp.status == 404 && endedByGame) {
                ledger.addViolation(
                    "false-200: the title got 200 for \(sessionId) on \(hostId), but gsmsd's look-up right after answers \(lookUp.status) \(lookUp.hostId ?? "")"
                )
            }
        } catch {
            ledger.addViolation("harness: look-up of \(sessionId) failed: \(error)")
        }
        if let previous = ledger.grant(sessionId, to: hostId), previous != sessionId {
            if let before = try? await lookUp(previous), before.status == 200, before.hostId == hostId {
                ledger.addViolation(
                    "two-sessions: gsmsd gave \(hostId) \(sessionId) while it still holds \(previous) there")
            }
        }
    }

    /// `GET /titles/1234/sessionhosts/{sessionId}`: its status and host.
    func lookUp(_ sessionId: String) async throws -> (status: Int, hostId: String?) {
        let (client, authorization) = (fleet.gsms.client, authorization)
        let answer = try await Deadline.within(
            Self.callTimeout, "GET /titles/\(FaultFleet.title)/sessionhosts/\(sessionId)"
        ) {
            try await client.send(
                .GET, "/titles/\(FaultFleet.title)/sessionhosts/\(sessionId)", headers: [authorization])
        }
        return (answer.status, answer.json["sessionHostId"] as? String)
    }

    // MARK: Load

    /// Keeps allocating for `duration` (at most `limit` allocations in all): one title worker
    /// per host waits until gsmsd has that host StandingBy, then asks for its region (one time
    /// in four also the next host's region, so that a failed hand-off can move on to another
    /// host). After a refusal a worker waits `Retry-After`, as a title does.
    func driveLoad(on hosts: [FaultFleet.Host], for duration: Duration, limit: Int, seed: UInt64) async {
        let phaseEnd = ContinuousClock.now + duration
        let budget = AllocationBudget(limit)
        await withTaskGroup(of: Void.self) { group in
            for host in hosts {
                group.addTask {
                    await self.loadWorker(host, until: phaseEnd, budget: budget, seed: seed &+ UInt64(host.index))
                }
            }
        }
    }

    private func loadWorker(
        _ host: FaultFleet.Host, until phaseEnd: ContinuousClock.Instant, budget: AllocationBudget, seed: UInt64
    ) async {
        var random = FaultInjectionTests.SplitMix64(state: seed)
        var retryNotBefore = ContinuousClock.now
        while true {
            let remaining = phaseEnd - .now
            guard remaining > .zero else { return }
            do {
                try await Deadline.waitUntilAsync("\(host.hostId) to be StandingBy in gsmsd", timeout: remaining) {
                    guard ContinuousClock.now >= retryNotBefore else { return false }
                    return (try? await self.fleet.hostStatus(host.hostId))?["state"] as? String == "StandingBy"
                }
            } catch {
                return // the phase is over
            }
            guard budget.take() else { return }
            let next = fleet.hosts[host.index % fleet.hosts.count]
            let locations = Int.random(in: 0..<4, using: &random) == 0 ? [host.region, next.region] : [host.region]
            let (attempt, retryAfter) = await allocate(locations: locations, purpose: .load)
            if attempt.status != 200 { retryNotBefore = .now + (retryAfter ?? .seconds(1)) }
        }
    }

    /// How many allocations the load workers of one phase may still make, shared by them.
    final class AllocationBudget: Sendable {
        private let left: Mutex<Int>

        init(_ limit: Int) { left = Mutex(limit) }

        /// Takes one allocation from the budget; false when none is left.
        func take() -> Bool {
            left.withLock { left in
                guard left > 0 else { return false }
                left -= 1
                return true
            }
        }
    }

    // MARK: Recovery

    /// For every host at once: the time from `healedAt` until an allocation aimed at its region
    /// is answered 200 with it (tried whenever gsmsd has the host StandingBy); nil when that
    /// did not happen within `limit`.
    func measureRecovery(since healedAt: ContinuousClock.Instant, limit: Duration) async -> [String: Duration?] {
        await withTaskGroup(of: (String, Duration?).self) { group in
            for host in fleet.hosts {
                group.addTask {
                    var allocatedAt: ContinuousClock.Instant?
                    try? await Deadline.waitUntilAsync(
                        "\(host.hostId) to be allocatable", timeout: healedAt + limit - .now
                    ) {
                        guard (try? await self.fleet.hostStatus(host.hostId))?["state"] as? String == "StandingBy"
                        else { return false }
                        let (attempt, _) = await self.allocate(locations: [host.region], purpose: .recovery)
                        guard attempt.status == 200, attempt.hostId == host.hostId else { return false }
                        allocatedAt = attempt.answeredAt
                        return true
                    }
                    return (host.hostId, allocatedAt.map { $0 - healedAt })
                }
            }
            return await group.reduce(into: [String: Duration?]()) { $0[$1.0] = $1.1 }
        }
    }
}
