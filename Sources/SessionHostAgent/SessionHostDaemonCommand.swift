import ArgumentParser
import Logging
import SessionHostLogging
import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `sessionhostd`: the session-host agent on a game-server VM.
public struct SessionHostDaemonCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sessionhostd",
        abstract: "The session-host agent: serves the local game server over a Unix socket.",
        discussion: """
            Run it as a systemd Type=notify service (see systemd/sessionhostd.service). The game \
            server calls POST /v1/ready on the socket, then waits for its session with \
            GET /v1/session?wait=SECONDS and heartbeats with POST /v1/heartbeat. Without a control \
            plane the agent runs in local mode: `sessionhostctl allocate` hands it a session.

            Example:
              sessionhostd --socket /tmp/agent.sock --state-dir /tmp/agent-state \\
                --title-id 1234ABCD --region WestUS --port game:udp:7777:30000
            """,
        version: SessionHostVersion.release)

    @OptionGroup public var options: AgentOptions

    public init() {}

    public func run() async throws {
        let configuration: AgentConfiguration
        do {
            let file =
                try options.config.map { path throws(InvalidInput) in try AgentConfigFile.load(path: path) }
                ?? AgentConfigFile()
            configuration = try AgentConfiguration.resolve(
                options: options, file: file, environment: ProcessInfo.processInfo.environment)
        } catch {
            // A setting that cannot be used stops the start like any other start-up failure:
            // exit 1 (64 is only for a command line that cannot be parsed at all).
            StartupFailure.report(program: "sessionhostd", error.message)
            throw ExitCode(1)
        }
        DaemonLogging.bootstrap(
            identifier: "sessionhostd", level: configuration.logLevel, environment: ProcessInfo.processInfo.environment)
        var logger = Logger(label: "sessionhostd")
        logger.logLevel = configuration.logLevel
        do {
            try await AgentApplication.run(configuration: configuration, logger: logger)
        } catch let error as AgentError {
            logger.critical("sessionhostd cannot run: \(error.message)")
            throw ExitCode(1)
        }
    }
}
