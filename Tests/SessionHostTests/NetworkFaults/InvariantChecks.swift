import SessionHostSDK

/// The checks at the end of a scenario, over everything the title was answered and everything
/// each game was shown. Each broken invariant becomes a violation in the ledger, tagged:
///
/// - `false-200`: the title got 200 for a session that its host's game never saw, or that the
///   agent took away before the game ended it;
/// - `phantom`: a game was shown a session the title was not given on that host (answered
///   503 or another error, or given on another host);
/// - `two-hosts`: one session shown to two games;
/// - `two-sessions`: a host shown a second session before the first went away;
/// - `disagreement`: after the scenario, gsmsd and an agent still disagree about the host's session;
/// - `harness`: the test itself could not watch (an event stream failed).
enum InvariantChecks {
    /// How long gsmsd and the agents may take to agree once the network is healed.
    static let agreementTimeout: Duration = .seconds(10)

    static func run(fleet: FaultFleet, ledger: AllocationLedger) async {
        for attempt in ledger.attempts where attempt.status == 200 {
            guard let hostId = attempt.hostId, let host = fleet.host(hostId) else { continue } // reported at the 200
            guard let sighting = host.game.observer.sighting(attempt.sessionId) else {
                ledger.addViolation(
                    "false-200: the title got 200 for \(attempt.sessionId) on \(hostId), whose game never saw it")
                continue
            }
            if sighting.takenAway {
                let reasons =
                    sighting.takenAwayReasons.isEmpty
                    ? "its end was refused" : sighting.takenAwayReasons.joined(separator: "; ")
                let back = sighting.held || sighting.endRequested && !sighting.endRefused ? ", then took it back" : ""
                ledger.addViolation(
                    "false-200: the title got 200 for \(attempt.sessionId) on \(hostId), but the agent took it away from the game before the game ended it (\(reasons))\(back)"
                )
            }
        }
        var shownTo: [String: [String]] = [:]
        for host in fleet.hosts {
            let observer = host.game.observer
            for sighting in observer.sightings {
                shownTo[sighting.sessionId, default: []].append(host.hostId)
                let attempt = ledger.attempt(sighting.sessionId)
                guard attempt?.status != 200 || attempt?.hostId != host.hostId else { continue }
                let answer =
                    attempt.map { attempt in
                        attempt.status == 200
                            ? "200 with \(attempt.hostId ?? "?")"
                            : "\(attempt.status.map(String.init) ?? "no answer") \(attempt.failure ?? "")"
                    } ?? "nothing (not a session of this scenario)"
                ledger.addViolation(
                    "phantom: \(host.hostId)'s game was shown \(sighting.sessionId) (then \(sighting.goneReason ?? "still held")), but the title was answered \(answer)"
                )
            }
            for replacement in observer.replacements {
                ledger.addViolation("two-sessions: on \(host.hostId), \(replacement)")
            }
            if let failure = observer.streamFailure { ledger.addViolation("harness: \(failure)") }
        }
        for (sessionId, hosts) in shownTo where hosts.count > 1 {
            ledger.addViolation("two-hosts: \(sessionId) was shown to the games of \(hosts.joined(separator: " and "))")
        }
        await checkAgreement(fleet: fleet, ledger: ledger)
    }

    /// Every agent holds the session gsmsd assigns its host, and no session is on two hosts.
    private static func checkAgreement(fleet: FaultFleet, ledger: AllocationLedger) async {
        for host in fleet.hosts {
            var last = ""
            do {
                try await Deadline.waitUntilAsync("\(host.hostId) to agree with gsmsd", timeout: agreementTimeout) {
                    let assigned = try await fleet.hostStatus(host.hostId)["sessionId"] as? String
                    let held = try await host.game.client.session().sessionId
                    last = "gsmsd assigns \(assigned ?? "nothing"), the agent holds \(held ?? "nothing")"
                    return assigned == held
                }
            } catch {
                ledger.addViolation(
                    "disagreement: \(host.hostId) after \(agreementTimeout): \(last.isEmpty ? "\(error)" : last)")
            }
        }
    }
}
