import Foundation
import Testing
import TitleTokens

/// `sessionhostctl token`, run as the real executable.
@Suite("sessionhostctl token: mints what gsmsd verifies; usage errors exit 64, key errors 1")
struct TitleTokenCommandTests {
    static let secret = "0123456789abcdef0123456789abcdef"

    /// A directory holding a key file `k` with `contents`.
    static func keyDirectory(_ contents: String = secret + "\n") throws -> (TemporaryDirectory, String) {
        let directory = try TemporaryDirectory()
        let path = directory.file("k")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(contents.utf8)))
        return (directory, path)
    }

    static func token(_ arguments: [String], in directory: TemporaryDirectory) async throws -> ProcessRun.Result {
        try await ProcessRun.run(Binaries.sessionhostctl, ["token"] + arguments, in: directory)
    }

    @Test(
        "prints only the token and a newline; TitleTokenAuthority accepts it with the titles, subject and ttl asked for"
    )
    func mint() async throws {
        let (directory, key) = try Self.keyDirectory()
        let result = try await Self.token(
            ["--key-file", key, "--title", "1234", "--title", "ABCD", "--ttl", "120", "--subject", "ci"], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.hasSuffix("\n"))
        let token = String(result.stdout.dropLast())
        #expect(!token.isEmpty)
        #expect(!token.contains { $0.isWhitespace })
        #expect(token.split(separator: ".", omittingEmptySubsequences: false).count == 3)

        // The key file's trailing newline is ignored: the bare secret verifies it.
        let authority = await TitleTokenAuthority(key: try TitleTokenKey(bytes: Array(Self.secret.utf8)))
        let claims = try await authority.verify(token)
        #expect(claims.titles == ["1234", "ABCD"])
        #expect(claims.subject == "ci")
        #expect(claims.expiresAt.timeIntervalSince(claims.issuedAt) == 120)
        #expect(try await authority.verify(try XBLAuthorization.token(fromHeader: "XBL3.0 x=-;\(token)")) == claims)

        let defaults = try await Self.token(["--key-file", key, "--title", "1234"], in: directory)
        #expect(defaults.status == 0, "\(defaults.stderr)")
        let defaultClaims = try await authority.verify(String(defaults.stdout.dropLast()))
        #expect(defaultClaims.expiresAt.timeIntervalSince(defaultClaims.issuedAt) == 3600)
        #expect(defaultClaims.subject == nil)
    }

    @Test("bad flags and values exit 64 with the fix on stderr and nothing on stdout")
    func usageErrors() async throws {
        let (directory, key) = try Self.keyDirectory()
        let cases: [([String], String)] = [
            (["--key-file", key, "--title", "1234", "--ttl", "0"], "--ttl"),
            (["--key-file", key, "--title", "1234", "--ttl", "31536001"], "--ttl"),
            (["--key-file", key, "--title", "1234", "--ttl", "soon"], "ttl"),
            (["--key-file", key, "--title", "bad title"], "titleId"),
            (["--key-file", key], "--title"),
            (["--title", "1234"], "--key-file"),
            (["--key-file", key, "--title", "1234", "--subject", ""], "--subject"),
        ]
        for (arguments, mention) in cases {
            let result = try await Self.token(arguments, in: directory)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(arguments)")
            #expect(result.stderr.contains(mention), "\(arguments): \(result.stderr)")
        }
        let longest = try await Self.token(["--key-file", key, "--title", "1234", "--ttl", "31536000"], in: directory)
        #expect(longest.status == 0, "\(longest.stderr)")
    }

    @Test("a short or missing key file exits 1 naming the file and the code")
    func keyErrors() async throws {
        let (directory, short) = try Self.keyDirectory(String(Self.secret.dropLast()) + "\n")
        let result = try await Self.token(["--key-file", short, "--title", "1234"], in: directory)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("KeyTooShort"))
        #expect(result.stderr.contains(short))

        let missingPath = directory.file("missing")
        let missing = try await Self.token(["--key-file", missingPath, "--title", "1234"], in: directory)
        #expect(missing.status == 1)
        #expect(missing.stdout.isEmpty)
        #expect(missing.stderr.contains("KeyUnreadable"))
        #expect(missing.stderr.contains(missingPath))
    }

    @Test("--help shows how to use the token with curl")
    func help() async throws {
        let directory = try TemporaryDirectory()
        // Wide enough for the one-line example not to be wrapped.
        let wide = try await ProcessRun.run(
            Binaries.sessionhostctl, ["token", "--help"], in: directory, environment: ["COLUMNS": "200"])
        #expect(wide.status == 0)
        #expect(
            wide.stdout.contains(
                #"curl -H "Authorization: XBL3.0 x=-;$(sessionhostctl token --key-file k --title 1234)""#),
            "\(wide.stdout)")
        // At 80 columns the two-line example stays whole, ready to copy.
        let narrow = try await ProcessRun.run(
            Binaries.sessionhostctl, ["token", "--help"], in: directory, environment: ["COLUMNS": "80"])
        #expect(narrow.status == 0)
        #expect(
            narrow.stdout.contains("  TOKEN=$(sessionhostctl token --key-file k --title 1234)\n"), "\(narrow.stdout)")
        #expect(narrow.stdout.contains(#"  curl -H "Authorization: XBL3.0 x=-;$TOKEN""#), "\(narrow.stdout)")
        let top = try await ProcessRun.run(Binaries.sessionhostctl, ["--help"], in: directory)
        #expect(top.stdout.contains("token"))
    }
}
