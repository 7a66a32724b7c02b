import ArgumentParser
import SessionHostSDK

/// Options every agent command shares.
struct AgentConnectionOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The agent socket. Default: $SESSIONHOST_SOCKET, else /run/sessionhost/agent.sock.", valueName: "PATH"))
    var socket: String?

    @Flag(name: .long, help: "Print the agent's JSON answer as it is.")
    var json = false

    var client: AgentClient { AgentClient(socketPath: socket) }
}
