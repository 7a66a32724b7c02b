import ArgumentParser
import SessionHostModel
import SessionHostTitleClient

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Options of `sessionhostctl fleet …`: gsmsd's URL and the operator secret.
struct OperatorConnectionOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "gsmsd's base URL, e.g. http://127.0.0.1:8080. Default: $SESSIONHOST_SERVICE.", valueName: "URL"))
    var service: String?

    @Option(
        name: .customLong("operator-token-file"),
        help: ArgumentHelp(
            "The operator secret's file (the one gsmsd was started with, --operator-token-file). Default: $SESSIONHOST_OPERATOR_TOKEN_FILE.",
            valueName: "FILE"))
    var operatorTokenFile: String?

    @Flag(name: .long, help: "Print gsmsd's JSON answer as it is.")
    var json = false

    static let tokenFileEnvironmentVariable = "SESSIONHOST_OPERATOR_TOKEN_FILE"

    var serviceURL: String? {
        service
            ?? ProcessInfo.processInfo.environment[ServiceConnectionOptions.serviceEnvironmentVariable]
            .flatMap { $0.isEmpty ? nil : $0 }
    }

    var tokenFile: String? {
        operatorTokenFile
            ?? ProcessInfo.processInfo.environment[Self.tokenFileEnvironmentVariable]
            .flatMap { $0.isEmpty ? nil : $0 }
    }

    func validateForService() throws {
        guard let url = serviceURL else {
            throw ValidationError(
                "give --service URL (gsmsd's base URL, e.g. http://127.0.0.1:8080) or set \(ServiceConnectionOptions.serviceEnvironmentVariable)"
            )
        }
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), !url.contains(where: { $0.isWhitespace })
        else {
            throw ValidationError(
                "the service URL must be http://HOST:PORT or https://HOST[:PORT], got '\(url.prefix(200))'")
        }
        guard tokenFile != nil else {
            throw ValidationError(
                "give --operator-token-file FILE (gsmsd's --operator-token-file) or set \(Self.tokenFileEnvironmentVariable)"
            )
        }
    }

    /// A client with the secret read from the file (one trailing newline removed).
    func client() throws -> OperatorClient {
        try validateForService()
        guard let url = serviceURL, let path = tokenFile else {
            throw ValidationError("give --service and --operator-token-file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            CommandOutput.printError(
                "error: cannot read the operator secret file \(path): \(FileErrorDescription.describe(path: path))")
            throw ExitCode(ExitCode.validationFailure.rawValue)
        }
        var secret = String(decoding: data, as: UTF8.self)
        while secret.hasSuffix("\n") || secret.hasSuffix("\r") { secret.removeLast() }
        return OperatorClient(baseURL: url, secret: secret)
    }

    /// Runs `body`, turning gsmsd's refusals into the documented exit codes with a fix.
    func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as TitleClientError {
            CommandOutput.printError("error: \(error.description)")
            if let fix = Self.fix(for: error, serviceURL: serviceURL ?? "URL") {
                CommandOutput.printError("fix: " + fix)
            }
            throw ExitCode(error.isUnreachable ? CommandOutput.unreachableExitCode : CommandOutput.refusedExitCode)
        }
    }

    static func fix(for error: TitleClientError, serviceURL: String) -> String? {
        switch error.code.rawValue {
        case "MissingOperatorToken", "InvalidOperatorToken", "MalformedAuthorization":
            return "pass the file gsmsd was started with: --operator-token-file FILE (gsmsd --operator-token-file)"
        case "NotFound" where error.status == 404:
            return
                "gsmsd at \(serviceURL) serves no operator API: start it with --operator-token-file FILE (or \"operator-token-file\" in its config)"
        case "SessionNotFound":
            return
                "the title has no Allocating or Active session with that id; list them with: sessionhostctl fleet sessions --title ID"
        default:
            return ServiceOutput.fix(for: error, title: "ID", serviceURL: serviceURL)
        }
    }
}
