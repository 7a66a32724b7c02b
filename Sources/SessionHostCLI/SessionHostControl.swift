import ArgumentParser
import SessionHostModel

/// `sessionhostctl`: the operator and developer CLI.
public struct SessionHostControl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sessionhostctl",
        abstract:
            "Inspect and drive a session-host agent (sessionhostd); call gsmsd as a title would; mint title tokens.",
        discussion: """
            Exit codes: 0 success; 1 the agent or gsmsd refused the request (its error code and \
            message are printed); 3 the agent or gsmsd could not be reached; 64 a usage error.
            """,
        version: SessionHostVersion.release,
        subcommands: [
            HostCommand.self, SessionCommand.self, EventsCommand.self, ReadyCommand.self,
            HeartbeatCommand.self, EndCommand.self, AllocateCommand.self, DrainCommand.self, GetCommand.self,
            ClusterCommand.self, TokenCommand.self, FleetCommand.self,
        ])

    public init() {}
}
