import Foundation

/// One network-fault scenario from start to verdict: a fresh fleet on a fresh fault network,
/// the scenario's faults and load, then the same ending for all: wait for the games' matches
/// to end, heal every link, measure how soon each host is allocatable, run the invariant
/// checks, print the figures, stop everything.
final class FaultScenario: Sendable {
    /// The seed of the whole run: `NETFAULT_SEED` to replay one, else random (and printed).
    static let runSeed: UInt64 =
        ProcessInfo.processInfo.environment["NETFAULT_SEED"].flatMap(UInt64.init)
        ?? UInt64.random(in: 1...UInt64.max)
    /// Agents (hosts) in every scenario.
    static let agentCount = 4
    /// A host must be allocatable again this soon after the network heals (a protocol
    /// requirement, not a tuned tolerance).
    static let recoveryRequirement: Duration = .seconds(3)
    /// How long recovery is measured before a host counts as not recovered.
    static let recoveryLimit: Duration = .seconds(15)
    /// How long in-flight matches may take to end before healing.
    static let drainTimeout: Duration = .seconds(20)

    let name: String
    let seed: UInt64
    let fleet: FaultFleet
    let ledger: AllocationLedger
    let title: TitleDriver
    private let startedAt: ContinuousClock.Instant

    private init(
        name: String, seed: UInt64, fleet: FaultFleet, ledger: AllocationLedger, title: TitleDriver,
        startedAt: ContinuousClock.Instant
    ) {
        self.name = name
        self.seed = seed
        self.fleet = fleet
        self.ledger = ledger
        self.title = title
        self.startedAt = startedAt
    }

    /// Runs `body` (the faults and the load) in scenario `number`, then concludes. The fleet is
    /// stopped whatever happens.
    static func run(_ name: String, number: Int, _ body: (FaultScenario) async throws -> Void) async throws
        -> ScenarioReport
    {
        let startedAt = ContinuousClock.now
        let seed = runSeed &+ UInt64(number) &* 0x9E37_79B9_7F4A_7C15
        print("netfault: scenario=\(name) starting; replay with NETFAULT_SEED=\(runSeed)")
        let fleet = try await FaultFleet.start(agentCount: agentCount, seed: seed)
        let scenario: FaultScenario
        do {
            let ledger = AllocationLedger()
            let title = try await TitleDriver(fleet: fleet, ledger: ledger, scenarioNumber: number)
            scenario = FaultScenario(
                name: name, seed: seed, fleet: fleet, ledger: ledger, title: title, startedAt: startedAt)
            try await body(scenario)
        } catch {
            try? await fleet.stop()
            throw error
        }
        return try await scenario.conclude()
    }

    // MARK: Faults

    /// Applies `rule` to `direction` (or both) of every agent's link.
    func applyToAllLinks(_ rule: LinkRule, direction: LinkDirection? = nil) {
        for host in fleet.hosts {
            if let direction {
                fleet.forwarder.setRule(rule, agent: host.index, direction: direction)
            } else {
                fleet.forwarder.setRule(rule, agent: host.index)
            }
        }
        print(
            "netfault: scenario=\(name) links of all agents \(direction.map { "(\($0.rawValue))" } ?? "(both ways)"): \(rule)"
        )
    }

    /// The load of the loss and jitter scenarios: every host, `duration`, at most `limit` allocations.
    func driveLoad(for duration: Duration, limit: Int = 80) async {
        await title.driveLoad(on: fleet.hosts, for: duration, limit: limit, seed: seed)
    }

    /// Allocates a session on `host` (aimed at its region) to hold through a fault; fails the
    /// scenario when it is not answered 200 with that host (the network is still clear then).
    func holdSession(on host: FaultFleet.Host, matchMilliseconds: ClosedRange<Int>) async throws -> String {
        host.game.setMatchLength(milliseconds: matchMilliseconds)
        let (attempt, _) = await title.allocate(locations: [host.region], purpose: .setup)
        guard attempt.status == 200, attempt.hostId == host.hostId else {
            throw TestFailure("setting up \(name): the allocation on \(host.hostId) was answered \(attempt)")
        }
        return attempt.sessionId
    }

    /// The title's look-up must still name `host` for `sessionId`: gsmsd keeps the session of a
    /// host it cannot hear.
    func expectStillAssigned(_ sessionId: String, to host: FaultFleet.Host) async throws {
        let lookUp = try await title.lookUp(sessionId)
        if !(lookUp.status == 200 && lookUp.hostId == host.hostId) {
            ledger.addViolation(
                "false-200: \(sessionId) was given to \(host.hostId), whose link is cut, but gsmsd's look-up answers \(lookUp.status) \(lookUp.hostId ?? "")"
            )
        }
    }

    // MARK: Ending

    private func conclude() async throws -> ScenarioReport {
        var report: ScenarioReport
        do {
            // Matches started during the fault end first (their hosts are not meant to be
            // allocatable before); then the whole network heals at once.
            try await fleet.waitForIdleGames(timeout: Self.drainTimeout)
            fleet.forwarder.clearRules()
            let healedAt = ContinuousClock.now
            let healedAtWallClock = Date()
            let recovery = await title.measureRecovery(since: healedAt, limit: Self.recoveryLimit)
            await InvariantChecks.run(fleet: fleet, ledger: ledger)
            report = ScenarioReport(name: name, seed: Self.runSeed, ledger: ledger)
            report.recovery = recovery
            report.recoveryLimit = Self.recoveryLimit
            report.packets = fleet.forwarder.counters.values.reduce(LinkCounters(), +)
            report.gameErrors = fleet.hosts.flatMap { $0.game.errors }
            report.logExcerpts =
                fleet.logExcerpts(about: report.violations, scenario: name)
                + fleet.logExcerpts(
                    afterHealAt: healedAtWallClock,
                    slowHosts: recovery.filter { host, measured in
                        measured.map { $0 > Self.recoveryRequirement } ?? true
                    }.map(\.key), scenario: name)
        } catch {
            try? await fleet.stop()
            throw error
        }
        try await fleet.stop()
        report.elapsed = ContinuousClock.now - startedAt
        print(report.line)
        for violation in report.violations {
            print("netfault: scenario=\(name) \(violation)")
        }
        for error in report.gameErrors {
            print("netfault: scenario=\(name) game call failed: \(error)")
        }
        if !report.logExcerpts.isEmpty { print(report.logExcerpts) }
        return report
    }
}
