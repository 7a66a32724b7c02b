import ArgumentParser
import Foundation
import SessionHostModel
import SessionHostSDK

/// Options every agent command shares.
struct AgentConnectionOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The agent socket. Default: $SESSIONHOST_SOCKET, else /run/sessionhost/agent.sock.", valueName: "PATH"))
    var socket: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Slot K of an agent run with --slots N: its own socket agent-K.sock beside the socket otherwise used (/run/sessionhost/agent-K.sock by default).",
            valueName: "K"))
    var slot: Int?

    @Flag(name: .long, help: "Print the agent's JSON answer as it is.")
    var json = false

    func validate() throws {
        if let slot, !(1...SlotSockets.maximumSlots).contains(slot) {
            throw ValidationError(
                "--slot must be 1 to \(SlotSockets.maximumSlots), the number of a slot of an agent run with --slots N; got \(slot)"
            )
        }
    }

    /// `--socket`, else `$SESSIONHOST_SOCKET`, else the default; with `--slot K` that slot's socket beside it.
    var socketPath: String? {
        guard let slot else { return socket }
        let beside =
            socket ?? ProcessInfo.processInfo.environment["SESSIONHOST_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
            ?? AgentClient.defaultSocketPath
        return SlotSockets.path(of: slot, beside: beside)
    }

    var client: AgentClient { AgentClient(socketPath: socketPath) }
}
