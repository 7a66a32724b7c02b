import ArgumentParser
import SessionHostModel
import TitleTokens

/// `sessionhostctl token`: mints a title token for the public REST API of gsmsd.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Mint a title token for gsmsd (the part after ';' in 'Authorization: XBL3.0 x=<userhash>;<token>').",
        discussion: """
            Signs an HS256 JWT with the same key file gsmsd verifies with (--token-key-file): the \
            file's bytes, at least 32, one trailing newline ignored. Only the token and a newline \
            are printed on standard output, so it can be used in a command substitution:

            curl -H "Authorization: XBL3.0 x=-;$(sessionhostctl token --key-file k --title 1234)" URL

            or, in two steps:

              TOKEN=$(sessionhostctl token --key-file k --title 1234)
              curl -H "Authorization: XBL3.0 x=-;$TOKEN" \\
                -H 'Content-Type: application/json' -d '{"sessionId": "<GUID>"}' \\
                http://127.0.0.1:8080/titles/1234/sessionhosts

            Make a key file with: head -c 48 /dev/urandom | base64 > k

            Exit codes: 0 success; 1 the key file is unreadable or too short; 64 a usage error.
            """)

    @Option(
        name: .customLong("key-file"),
        help: ArgumentHelp("The HMAC secret: at least 32 bytes; one trailing newline is ignored.", valueName: "FILE"))
    var keyFile: String

    @Option(
        name: .customLong("title"),
        help: ArgumentHelp("A title id the token may use. Repeatable; at least one.", valueName: "ID"))
    var titles: [String]

    @Option(
        name: .long,
        help: ArgumentHelp("How long the token is valid: 1 to 31536000 seconds (365 days).", valueName: "SECONDS"))
    var ttl: Int64 = TitleTokenAuthority.defaultTTL

    @Option(name: .long, help: ArgumentHelp("Who the token is for (the sub claim; for logs).", valueName: "NAME"))
    var subject: String?

    func validate() throws {
        guard !titles.isEmpty else { throw ValidationError("give at least one --title ID") }
        for title in titles {
            do throws(InvalidInput) {
                _ = try TitleRules.validatedTitleID(title)
            } catch {
                throw ValidationError("--title: \(error.message)")
            }
        }
        guard TitleTokenAuthority.ttlRange.contains(ttl) else {
            throw ValidationError(
                "--ttl must be \(TitleTokenAuthority.ttlRange.lowerBound) to \(TitleTokenAuthority.ttlRange.upperBound) seconds (365 days), got \(ttl)"
            )
        }
        if let subject, subject.isEmpty || subject.utf8.count > TitleTokenAuthority.maximumSubjectLength {
            throw ValidationError("--subject must be 1 to \(TitleTokenAuthority.maximumSubjectLength) bytes")
        }
    }

    func run() async throws {
        let key: TitleTokenKey
        do throws(TitleTokenError) {
            key = try TitleTokenKey(contentsOfFile: keyFile)
        } catch {
            CommandOutput.printError("error: \(error.message) [\(error.code)]")
            throw ExitCode(CommandOutput.refusedExitCode)
        }
        let authority = await TitleTokenAuthority(key: key)
        do throws(TitleTokenError) {
            print(try await authority.mint(titles: titles, subject: subject, ttl: .seconds(ttl)))
        } catch {
            CommandOutput.printError("error: \(error.message) [\(error.code)]")
            throw ExitCode(
                error.code == .signingFailed ? CommandOutput.refusedExitCode : ExitCode.validationFailure.rawValue)
        }
    }
}
