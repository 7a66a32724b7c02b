import AllocationStore
import ArgumentParser
import Logging
import NIOCore
import SessionHostLogging
import SessionHostModel
import TitleTokens

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `gsmsd`: the allocation service (SPEC §2).
public struct GSMSDaemonCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gsmsd",
        abstract:
            "The allocation service: the public sessionhosts and clusters REST API, and the API agents register with.",
        discussion: """
            Titles call POST /titles/{titleId}/sessionhosts with an 'Authorization: XBL3.0 x=<hash>;<token>' \
            header whose token `sessionhostctl token` mints from the same key file. Agents \
            (sessionhostd --control-plane) register with the fleet secret. See docs/rest-api.md and \
            docs/control-plane-api.md.

            Example:
              head -c 32 /dev/urandom | base64 > token.key
              head -c 32 /dev/urandom | base64 > agent.token
              gsmsd --listen 127.0.0.1:8080 --database ./gsms.sqlite --title 1234ABCD \\
                --token-key-file token.key --agent-token-file agent.token
            """,
        version: SessionHostVersion.release)

    @OptionGroup public var options: ServiceOptions

    public init() {}

    public func run() async throws {
        MallocTuning.apply()
        let configuration: ServiceConfiguration
        do {
            let file =
                try options.config.map { path throws(InvalidInput) in
                    try ConfigFile.load(ServiceConfigFile.self, path: path)
                }
                ?? ServiceConfigFile()
            configuration = try ServiceConfiguration.resolve(
                options: options, file: file, environment: ProcessInfo.processInfo.environment)
        } catch {
            // A setting that cannot be used stops the start like any other start-up failure:
            // exit 1 (64 is only for a command line that cannot be parsed at all).
            StartupFailure.report(program: "gsmsd", error.message)
            throw ExitCode(1)
        }
        DaemonLogging.bootstrap(
            identifier: "gsmsd", level: configuration.logLevel, environment: ProcessInfo.processInfo.environment)
        var logger = Logger(label: "gsmsd")
        logger.logLevel = configuration.logLevel
        do {
            try await GSMSApplication.run(configuration: configuration, logger: logger)
        } catch let error as InvalidInput {
            // The agent token file.
            logger.critical("gsmsd cannot run: \(error.message)")
            throw ExitCode(1)
        } catch let error as TitleTokenError {
            // The title-token key file.
            logger.critical("gsmsd cannot run: \(error.message)")
            throw ExitCode(1)
        } catch let error as StoreError {
            logger.critical("gsmsd cannot run: \(error.message)")
            throw ExitCode(1)
        } catch let error as IOError {
            // The listening socket (the only socket gsmsd opens itself at start).
            let reason = SocketErrorDescription.words(
                errno: error.errnoCode, listener: "gsmsd or program", option: "--listen")
            logger.critical(
                "gsmsd cannot run: cannot listen on \(configuration.listenHost):\(configuration.listenPort): \(reason)")
            throw ExitCode(1)
        }
    }
}
