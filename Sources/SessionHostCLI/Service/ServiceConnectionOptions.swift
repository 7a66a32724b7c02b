import ArgumentParser
import SessionHostModel
import SessionHostTitleClient
import TitleTokens

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Options of the commands that call gsmsd's public REST API as a title would.
struct ServiceConnectionOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "gsmsd's base URL, e.g. http://127.0.0.1:8080. Default: $SESSIONHOST_SERVICE.", valueName: "URL"))
    var service: String?

    @Option(name: .customLong("title"), help: ArgumentHelp("The title id to call for.", valueName: "ID"))
    var title: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A title token (the part after ';' in the XBL3.0 header), e.g. from 'sessionhostctl token'.",
            valueName: "TOKEN"))
    var token: String?

    @Option(
        name: .customLong("key-file"),
        help: ArgumentHelp(
            "Mint a short-lived token for --title with this key file (the one gsmsd verifies with, --token-key-file).",
            valueName: "FILE"))
    var keyFile: String?

    /// The environment variable naming gsmsd's base URL when `--service` is not given.
    static let serviceEnvironmentVariable = "SESSIONHOST_SERVICE"

    /// The lifetime of the tokens minted with `--key-file`, in seconds.
    static let mintedTokenTTL: Int64 = 300

    /// Whether any of these options was given on the command line.
    var anyGiven: Bool { service != nil || title != nil || token != nil || keyFile != nil }

    /// `--service`, else `$SESSIONHOST_SERVICE`.
    var serviceURL: String? {
        if let service { return service }
        guard let value = ProcessInfo.processInfo.environment[Self.serviceEnvironmentVariable], !value.isEmpty else {
            return nil
        }
        return value
    }

    /// Checks that the options name a service, a title and one credential.
    func validateForService() throws {
        guard let url = serviceURL else {
            throw ValidationError(
                "give --service URL (gsmsd's base URL, e.g. http://127.0.0.1:8080) or set \(Self.serviceEnvironmentVariable)"
            )
        }
        let lower = url.lowercased()
        let host = url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), host != nil,
            !url.contains(where: { $0.isWhitespace })
        else {
            throw ValidationError(
                "the service URL must be http://HOST:PORT or https://HOST[:PORT], got '\(url.prefix(200))'")
        }
        guard let title else { throw ValidationError("give --title ID, the title to call for") }
        do throws(InvalidInput) {
            _ = try TitleRules.validatedTitleID(title)
        } catch {
            throw ValidationError("--title: \(error.message)")
        }
        switch (token, keyFile) {
        case (nil, nil):
            throw ValidationError(
                "give --token TOKEN or --key-file FILE (mint a token with: sessionhostctl token --key-file FILE --title \(title))"
            )
        case (.some, .some):
            throw ValidationError("give either --token or --key-file, not both")
        case (.some(let token), nil):
            guard !token.isEmpty, !token.contains(where: { $0.isWhitespace || $0 == ";" }) else {
                throw ValidationError(
                    "--token must be the bare token, without white space or ';' (not the whole 'XBL3.0 x=…;' header)")
            }
        case (nil, .some):
            break
        }
    }

    /// A client for the validated options. With `--key-file`, the key is read and one token
    /// minted now, so that a bad key file is reported before anything is sent (exit 64).
    func client() async throws -> TitleClient {
        try validateForService()
        guard let url = serviceURL, let title else { throw ValidationError("give --service and --title") }
        let provider: @Sendable () async throws -> String
        if let token {
            provider = { token }
        } else if let keyFile {
            let key: TitleTokenKey
            do throws(TitleTokenError) {
                key = try TitleTokenKey(contentsOfFile: keyFile)
            } catch {
                CommandOutput.printError("error: \(error.message) [\(error.code)]")
                CommandOutput.printError(
                    "fix: --key-file must name the key file gsmsd verifies tokens with (gsmsd --token-key-file)")
                throw ExitCode(ExitCode.validationFailure.rawValue)
            }
            let authority = await TitleTokenAuthority(key: key)
            let mint: @Sendable () async throws -> String = {
                try await authority.mint(titles: [title], subject: "sessionhostctl", ttl: .seconds(Self.mintedTokenTTL))
            }
            do {
                _ = try await mint()
            } catch {
                CommandOutput.printError("error: cannot mint a token for title \(title): \(error)")
                throw ExitCode(ExitCode.validationFailure.rawValue)
            }
            provider = mint
        } else {
            throw ValidationError("give --token TOKEN or --key-file FILE")
        }
        return TitleClient(baseURL: url, titleId: title, token: provider)
    }
}

/// Printing gsmsd's answers and turning its errors into exit codes.
enum ServiceOutput {
    /// Runs `body`; a ``TitleClientError`` is printed to stderr with a fix and becomes exit code
    /// 3 (unreachable) or 1 (refused, or an answer that is not gsmsd's).
    static func run(title: String?, serviceURL: String?, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as TitleClientError {
            throw report(error, title: title, serviceURL: serviceURL)
        }
    }

    /// Prints `error` and its fix on stderr; returns the documented exit code to throw.
    static func report(_ error: TitleClientError, title: String?, serviceURL: String?) -> ExitCode {
        CommandOutput.printError("error: \(error.description)")
        if let fix = fix(for: error, title: title ?? "ID", serviceURL: serviceURL ?? "URL") {
            CommandOutput.printError("fix: " + fix)
        }
        return ExitCode(error.isUnreachable ? CommandOutput.unreachableExitCode : CommandOutput.refusedExitCode)
    }

    static func fix(for error: TitleClientError, title: String, serviceURL: String) -> String? {
        switch error.code {
        case .unreachable:
            return
                "is gsmsd running and listening at \(serviceURL)? Check --service (or \(ServiceConnectionOptions.serviceEnvironmentVariable)) against gsmsd --listen"
        case .missingAuthorization, .malformedAuthorization, .invalidToken:
            return
                "pass a token minted with the key file gsmsd verifies with: --key-file FILE, or --token \"$(sessionhostctl token --key-file FILE --title \(title))\""
        case .tokenExpired:
            return
                "the token has expired; mint a new one (sessionhostctl token --key-file FILE --title \(title)) or use --key-file"
        case .titleNotAllowed:
            return
                "the token does not cover title \(title); mint one that does: sessionhostctl token --key-file FILE --title \(title)"
        case .titleNotSubscribed:
            return "gsmsd serves no title \(title); start it with --title \(title), or check --title"
        case .invalidTitleId:
            return "--title must be 1 to 64 letters, digits, '.', '_' or '-'"
        case .invalidSessionId:
            return "--session-id must be a GUID for allocate and get, and a multiplayer session path for cluster"
        case .noStandingByHost:
            return
                "no StandingBy host of title \(title) matches (locations, sandbox, cloud game, game mode); start or free a game server, or try again later"
        case .allocationInProgress:
            return
                "another call with this session id is being allocated right now; look it up in a moment with: sessionhostctl get --session-id ID …"
        case .sessionNotFound:
            return
                "the session is unknown, still being allocated, or has ended; cluster sessions are looked up with sessionhostctl cluster"
        case .storeUnavailable, .internalError:
            return "gsmsd could not serve the request; see its log for the correlation id, and try again later"
        case .invalidAnswer:
            return "the answer is not gsmsd's; check that --service points at gsmsd, not at a proxy or another server"
        default:
            return nil
        }
    }

    /// `allocated host-a.example.net (WestUS) game 7777->30000 session 3536… host host-a`.
    static func describe(
        _ verb: String, hostName: String, region: String, portMappings: [PortMapping], sessionId: String,
        sessionHostId: String
    ) -> String {
        var line = "\(verb) \(hostName) (\(region))"
        for mapping in portMappings {
            line += " \(mapping.name) \(mapping.ports.internal)->\(mapping.ports.external)"
        }
        return line + " session \(sessionId) host \(sessionHostId)"
    }

    static func describe(_ verb: String, _ allocation: SessionHostAllocation) -> String {
        describe(
            verb, hostName: allocation.hostName, region: allocation.region, portMappings: allocation.portMappings,
            sessionId: allocation.sessionId, sessionHostId: allocation.sessionHostId)
    }

    /// The service's JSON body, as it came.
    static func printBody(_ body: [UInt8]) {
        print(String(decoding: body, as: UTF8.self))
    }
}
