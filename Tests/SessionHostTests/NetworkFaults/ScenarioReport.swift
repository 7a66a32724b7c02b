import Testing

/// The figures of one scenario, printed as one `netfault:` line.
struct ScenarioReport: Sendable {
    var name: String
    var seed: UInt64
    /// Allocations while the fault was on (load and set-up), and how they were answered.
    var allocations = 0
    var ok = 0
    var unavailable = 0
    var otherAnswers = 0
    /// Allocations made while measuring recovery.
    var recoveryAttempts = 0
    var violations: [String] = []
    /// Per host: time from healing until an allocation aimed at it was answered 200; nil when
    /// that did not happen within the measuring limit.
    var recovery: [String: Duration?] = [:]
    var recoveryLimit: Duration = .zero
    var packets = LinkCounters()
    var gameErrors: [String] = []
    /// Log lines about the sessions of the first violations, to print with them.
    var logExcerpts = ""
    var elapsed: Duration = .zero

    init(name: String, seed: UInt64, ledger: AllocationLedger) {
        self.name = name
        self.seed = seed
        for attempt in ledger.attempts {
            if attempt.purpose == .recovery {
                recoveryAttempts += 1
                continue
            }
            allocations += 1
            switch attempt.status {
            case 200: ok += 1
            case 503: unavailable += 1
            default: otherAnswers += 1
            }
        }
        violations = ledger.violations
    }

    /// Violations counted by tag (`phantom`, `false-200`, …).
    var violationKinds: [(String, Int)] {
        let tags = violations.map { String($0.prefix { $0 != ":" }) }
        return Dictionary(grouping: tags, by: { $0 }).map { ($0.key, $0.value.count) }.sorted { $0.0 < $1.0 }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    var line: String {
        let kinds = violationKinds.map { "\($0.0):\($0.1)" }.joined(separator: ",")
        let recoveryFigures = recovery.keys.sorted().map { host -> String in
            guard let duration = recovery[host] ?? nil else { return "\(host):>\(Self.milliseconds(recoveryLimit))" }
            return "\(host):\(Self.milliseconds(duration))"
        }.joined(separator: ",")
        return
            "netfault: scenario=\(name) allocations=\(allocations) ok=\(ok) unavailable=\(unavailable) other=\(otherAnswers)"
            + " violations=\(violations.count)" + (kinds.isEmpty ? "" : "[\(kinds)]")
            + " recovery_ms=[\(recoveryFigures)] recovery_attempts=\(recoveryAttempts)"
            + " packets_forwarded=\(packets.forwarded) packets_lost=\(packets.lost) packets_cut=\(packets.cut)"
            + " packets_delayed=\(packets.delayed) packets_overflowed=\(packets.overflowed)"
            + " game_errors=\(gameErrors.count) seconds=\(Self.milliseconds(elapsed) / 1000) seed=\(seed)"
    }
}

extension ScenarioReport {
    /// The verdict: no violation, and every host allocatable within the requirement.
    func expectNoLossAndPromptRecovery(sourceLocation: SourceLocation = #_sourceLocation) {
        let replay = "replay with NETFAULT_SEED=\(seed) swift test --filter NetworkFaultTests"
        let violationCount = violations.count
        #expect(
            violationCount == 0,
            "\(name): \(violationCount) violations; \(replay):\n\(violations.joined(separator: "\n"))",
            sourceLocation: sourceLocation)
        for host in recovery.keys.sorted() {
            let measured = recovery[host] ?? nil
            let allocatableInTime = measured.map { $0 <= FaultScenario.recoveryRequirement } ?? false
            let when =
                measured.map { "after \(Self.milliseconds($0)) ms" } ?? "not within \(FaultScenario.recoveryLimit)"
            #expect(
                allocatableInTime,
                "\(name): \(host) was allocatable again \(when) of healing; required: \(FaultScenario.recoveryRequirement); \(replay)",
                sourceLocation: sourceLocation)
        }
    }
}
