import ArgumentParser
import Foundation
import SessionHostModel
import SessionHostSDK

/// `sessionhostctl drain`: drains the VM the agent runs on (`POST /v1/drain`).
struct DrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Drain this VM: no new session, running ones end by the deadline (POST /v1/drain).",
        discussion: """
            Every slot of the agent stops taking sessions (gsmsd allocates none; the games are \
            told, GSDK game servers through their maintenance callback). At the deadline the agent \
            ends any session still running. Once no slot holds a session the agent reports the VM \
            Drained and runs its --on-drained command, if any. A drain is for the VM, kept across \
            agent restarts, and cannot be taken back (a drained VM is removed); draining again \
            with an earlier deadline moves the deadline earlier. Only root or the agent's own \
            user may drain.

            Examples:
              sudo sessionhostctl drain
              sudo sessionhostctl drain --deadline 600 --reason "kernel upgrade"
            """)

    @OptionGroup var agent: AgentConnectionOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Seconds from now until running sessions are ended, 1 to 604800. Default: 3600.", valueName: "SECONDS"))
    var deadline: Int?

    @Option(name: .long, help: ArgumentHelp("Why, in words (at most 256 bytes).", valueName: "TEXT"))
    var reason: String?

    /// The request body.
    var request: DrainCommandRequest { DrainCommandRequest(deadlineSeconds: deadline, reason: reason) }

    func validate() throws {
        do {
            try request.validate()
        } catch {
            throw ValidationError(error.message.replacingOccurrences(of: "deadlineSeconds", with: "--deadline"))
        }
    }

    func run() async throws {
        let body = request
        try await CommandOutput.run {
            if agent.json {
                let bytes = Array(try JSONEncoder().encode(body))
                return try await CommandOutput.printRaw(agent.client, method: "POST", path: "/v1/drain", body: bytes)
            }
            let host = try await agent.client.drain(body)
            print(Self.describe(host))
        }
    }

    /// What the drain means, in words, for the host the agent answered with.
    static func describe(_ host: HostInfo, now: Date = Date()) -> String {
        guard let drain = host.drain else { return "The agent did not report a drain." }
        var lines = ["The VM is draining: it takes no new session."]
        if let deadline = drain.deadlineDate {
            lines.append(
                "Running sessions end by \(drain.deadline) (\(CommandOutput.describeRemaining(deadline.timeIntervalSince(now))));"
                    + " then the agent reports the VM Drained.")
        }
        if let reason = drain.reason { lines.append("Reason: \(reason)") }
        if drain.source == .operator { lines.append("The drain in force was asked for by the operator (gsmsd).") }
        return lines.joined(separator: "\n")
    }
}
