import Foundation

/// Excerpts of gsmsd's and the agents' logs to print with a scenario's failures (read before
/// the fleet stops and its directories go).
extension FaultFleet {
    /// The lines of gsmsd's and the agents' logs that mention `text`, a few of each, for a
    /// failure message.
    func logLines(mentioning text: String, limit: Int = 8) -> String {
        var sections: [String] = []
        for (name, log) in [("gsmsd", gsms.log)] + hosts.map({ ($0.hostId, $0.agent.log) }) {
            let lines = log.split(separator: "\n").filter { $0.contains(text) }.suffix(limit)
            if !lines.isEmpty { sections.append("  \(name):\n    " + lines.joined(separator: "\n    ")) }
        }
        return sections.joined(separator: "\n")
    }

    /// What the logs say about the sessions named in the first few violations.
    func logExcerpts(about violations: [String], scenario: String, limit: Int = 4) -> String {
        var excerpts: [String] = []
        var seen: Set<String> = []
        for violation in violations {
            guard excerpts.count < limit else { break }
            let words = violation.split(whereSeparator: { " ,()".contains($0) }).map(String.init)
            guard let sessionId = words.first(where: Self.looksLikeSessionId), seen.insert(sessionId).inserted else {
                continue
            }
            let lines = logLines(mentioning: sessionId)
            if !lines.isEmpty { excerpts.append("netfault: scenario=\(scenario) logs about \(sessionId):\n\(lines)") }
        }
        return excerpts.joined(separator: "\n")
    }

    /// What the agents of `slowHosts` logged after the network healed at `healedAt`.
    func logExcerpts(afterHealAt healedAt: Date, slowHosts: [String], scenario: String, limit: Int = 12) -> String {
        // Log lines start with `time=` and an ISO 8601 UTC time, which sorts as text.
        let healed = "time=" + healedAt.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        let excerpts = hosts.filter { slowHosts.contains($0.hostId) }.map { host in
            let lines = host.agent.log.split(separator: "\n").filter { $0.prefix(healed.count) >= healed }.prefix(limit)
            return "netfault: scenario=\(scenario) \(host.hostId)'s log after the heal (\(healed)):\n    "
                + lines.joined(separator: "\n    ")
        }
        return excerpts.isEmpty ? "" : "\n" + excerpts.joined(separator: "\n")
    }

    private static func looksLikeSessionId(_ word: String) -> Bool {
        word.count == 36 && word.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12]
    }
}
