import Foundation
import JWTKit
import Testing
import TitleTokens

/// Title tokens: the key file, minting and verifying HS256 JWTs, the `XBL3.0` header.
@Suite("Title tokens: key file, mint and verify, XBL3.0 header")
struct TitleTokenTests {
    /// 32 bytes, the shortest key accepted.
    static let secret = Array("0123456789abcdef0123456789abcdef".utf8)

    static func authority(_ secret: [UInt8] = secret) async throws -> TitleTokenAuthority {
        await TitleTokenAuthority(key: try TitleTokenKey(bytes: secret))
    }

    /// The error `verify` throws for `token`, nil if it accepts it.
    static func refusal(_ authority: TitleTokenAuthority, _ token: String) async -> TitleTokenError? {
        do {
            _ = try await authority.verify(token)
            return nil
        } catch {
            return error
        }
    }

    /// Expects `token` to be refused with `code`, by a message that does not repeat the token.
    static func expectRefused(
        _ authority: TitleTokenAuthority, _ token: String, code: TitleTokenError.Code = .invalidToken,
        _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        let error = await refusal(authority, token)
        #expect(error?.code == code, comment, sourceLocation: sourceLocation)
        if let error, !token.isEmpty {
            #expect(!error.message.contains(token), "the message repeats the token", sourceLocation: sourceLocation)
            for part in token.split(separator: ".") where part.count > 8 {
                #expect(
                    !error.message.contains(part), "the message repeats part of the token",
                    sourceLocation: sourceLocation)
            }
        }
    }

    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func base64URLDecoded(_ text: some StringProtocol) throws -> Data {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return try #require(Data(base64Encoded: base64))
    }

    /// A claims object as JSON, valid for an hour from now.
    static func claimsJSON(titles: [String] = ["1234"]) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let list = titles.map { "\"\($0)\"" }.joined(separator: ",")
        return #"{"titles":[\#(list)],"iat":\#(now),"exp":\#(now + 3600)}"#
    }

    // MARK: - Key

    @Test(
        "the key file loses one trailing newline (LF or CRLF), no more; 31 bytes are refused; a missing file is named")
    func keyFile() async throws {
        let directory = try TemporaryDirectory()
        let secret = Self.secret
        func load(_ contents: [UInt8]) throws(TitleTokenError) -> TitleTokenKey {
            let path = directory.file("key-\(UUID().uuidString.prefix(8))")
            _ = FileManager.default.createFile(atPath: path, contents: Data(contents))
            return try TitleTokenKey(contentsOfFile: path)
        }
        #expect(try load(secret).byteCount == 32)
        #expect(try load(secret + Array("\n".utf8)).byteCount == 32)
        #expect(try load(secret + Array("\r\n".utf8)).byteCount == 32)
        #expect(try load(secret + Array("\n\n".utf8)).byteCount == 33, "only one newline is removed")
        #expect(try load(secret + Array(" ".utf8)).byteCount == 33, "other white space is part of the key")

        // The file's key and the same bytes given directly sign the same tokens.
        let fromFile = await TitleTokenAuthority(key: try load(secret + Array("\n".utf8)))
        let token = try await fromFile.mint(titles: ["1234"])
        #expect(try await Self.authority().verify(token).titles == ["1234"])

        let short = #expect(throws: TitleTokenError.self) { try load(Array(secret.dropLast()) + Array("\n".utf8)) }
        #expect(short?.code == .keyTooShort)
        #expect(short?.message.contains("31 bytes") == true)
        #expect(short?.message.contains(directory.path) == true)
        let shortBytes = #expect(throws: TitleTokenError.self) { try TitleTokenKey(bytes: secret.dropLast()) }
        #expect(shortBytes?.code == .keyTooShort)
        #expect(throws: TitleTokenError.self) { try TitleTokenKey(bytes: []) }

        let missingPath = directory.file("no-such-key")
        let missing = #expect(throws: TitleTokenError.self) { try TitleTokenKey(contentsOfFile: missingPath) }
        #expect(missing?.code == .keyUnreadable)
        #expect(missing?.message.contains(missingPath) == true)
        let notAFile = #expect(throws: TitleTokenError.self) { try TitleTokenKey(contentsOfFile: directory.path) }
        #expect(notAFile?.code == .keyUnreadable)

        let description = String(describing: try TitleTokenKey(bytes: secret))
        #expect(!description.contains("0123456789"), "the key never shows its secret")
    }

    // MARK: - Mint and verify

    @Test("mint then verify: titles (deduplicated), subject, iat and exp in whole seconds, HS256 header")
    func roundTrip() async throws {
        let authority = try await Self.authority()
        let now = Date()
        let token = try await authority.mint(
            titles: ["1234ABCD", "my-game_2.0", "1234ABCD"], subject: "dev", ttl: .seconds(600), now: now)
        let claims = try await authority.verify(token)
        #expect(claims.titles == ["1234ABCD", "my-game_2.0"])
        #expect(claims.subject == "dev")
        #expect(claims.issuedAt.timeIntervalSince1970 == now.timeIntervalSince1970.rounded(.down))
        #expect(claims.expiresAt.timeIntervalSince(claims.issuedAt) == 600)
        #expect(claims.covers(titleId: "1234ABCD"))
        #expect(!claims.covers(titleId: "1234abcd"), "title ids match exactly")
        #expect(!claims.covers(titleId: "5678"))

        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        let header = try #require(JSONSerialization.jsonObject(with: Self.base64URLDecoded(parts[0])) as? [String: Any])
        #expect(header["alg"] as? String == "HS256")
        let payload = try #require(
            JSONSerialization.jsonObject(with: Self.base64URLDecoded(parts[1])) as? [String: Any])
        #expect(Set(payload.keys) == ["sub", "titles", "iat", "exp"])

        let anonymous = try await authority.verify(try await authority.mint(titles: ["1234"]))
        #expect(anonymous.subject == nil)
        #expect(anonymous.expiresAt.timeIntervalSince(anonymous.issuedAt) == 3600, "the default lifetime is an hour")
    }

    @Test("minting refuses no titles, bad title ids, empty subjects and lifetimes outside 1 s to 365 days")
    func mintRules() async throws {
        let authority = try await Self.authority()
        func code(_ titles: [String], subject: String? = nil, ttl: Duration = .seconds(60)) async -> TitleTokenError
            .Code?
        {
            do {
                _ = try await authority.mint(titles: titles, subject: subject, ttl: ttl)
                return nil
            } catch {
                return error.code
            }
        }
        #expect(await code([]) == .noTitles)
        #expect(await code(["1234", "bad title"]) == .invalidTitleId)
        #expect(await code([""]) == .invalidTitleId)
        #expect(await code(["1234"], subject: "") == .invalidSubject)
        #expect(await code(["1234"], ttl: .zero) == .invalidTTL)
        #expect(await code(["1234"], ttl: .seconds(-5)) == .invalidTTL)
        #expect(await code(["1234"], ttl: .seconds(31_536_001)) == .invalidTTL)
        #expect(await code(["1234"], ttl: .milliseconds(1500)) == .invalidTTL)
        #expect(await code(["1234"], ttl: .seconds(31_536_000)) == nil)
        #expect(await code(["1234"], ttl: .seconds(1)) == nil)
        let many = (0..<2000).map { "title-\($0)" }
        #expect(await code(many) == .tokenTooLarge)
    }

    @Test("an expired token is refused as TokenExpired; one minted with a later clock is not")
    func expired() async throws {
        let authority = try await Self.authority()
        let stale = try await authority.mint(
            titles: ["1234"], ttl: .seconds(3600), now: Date(timeIntervalSinceNow: -7200))
        await Self.expectRefused(authority, stale, code: .tokenExpired)
        let error = await Self.refusal(authority, stale)
        #expect(error?.isAuthenticationFailure == true)
        let fresh = try await authority.mint(
            titles: ["1234"], ttl: .seconds(3600), now: Date(timeIntervalSinceNow: -1800))
        #expect(try await authority.verify(fresh).titles == ["1234"])
    }

    @Test("a token signed with another key is refused")
    func otherKey() async throws {
        let authority = try await Self.authority()
        let other = try await Self.authority(Array("fedcba9876543210fedcba9876543210".utf8))
        let token = try await other.mint(titles: ["1234"])
        #expect(try await other.verify(token).titles == ["1234"])
        await Self.expectRefused(authority, token)
    }

    @Test("a token whose payload or signature was changed is refused")
    func tampered() async throws {
        let authority = try await Self.authority()
        let token = try await authority.mint(titles: ["1234"])
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var payload = try #require(
            JSONSerialization.jsonObject(with: Self.base64URLDecoded(parts[1])) as? [String: Any])
        payload["titles"] = ["1234", "5678"]
        let forged = try JSONSerialization.data(withJSONObject: payload)
        await Self.expectRefused(authority, [parts[0], Self.base64URL(forged), parts[2]].joined(separator: "."))

        var signature = try Array(Self.base64URLDecoded(parts[2]))
        signature[0] ^= 1
        await Self.expectRefused(authority, [parts[0], parts[1], Self.base64URL(signature)].joined(separator: "."))
        await Self.expectRefused(authority, [parts[0], parts[1], ""].joined(separator: "."))
        await Self.expectRefused(authority, token + "A")
    }

    @Test("alg none is refused, with an empty signature and with the genuine one")
    func algNone() async throws {
        let authority = try await Self.authority()
        let header = Self.base64URL(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let payload = Self.base64URL(Array(Self.claimsJSON().utf8))
        await Self.expectRefused(authority, "\(header).\(payload).")

        let genuine = try await authority.mint(titles: ["1234"])
        let parts = genuine.split(separator: ".")
        await Self.expectRefused(authority, "\(header).\(parts[1]).\(parts[2])")
        let noAlg = Self.base64URL(Array(#"{"typ":"JWT"}"#.utf8))
        await Self.expectRefused(authority, "\(noAlg).\(parts[1]).\(parts[2])")
    }

    /// Decision (docs/title-tokens.md): only HS256 is accepted. A token signed with HS384 and the
    /// same key is refused, and so is an HS256 signature under a header that claims another
    /// algorithm: jwt-kit checks the signature with the configured key whatever `alg` says, so the
    /// authority checks `alg` itself.
    @Test("only HS256: an HS384 token with the same key is refused, and so is a header lying about alg")
    func onlyHS256() async throws {
        // HS384 wants at least 48 bytes of key.
        let secret = Array("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".utf8)
        let authority = try await Self.authority(secret)
        // Whole seconds, as JWT dates are.
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let claims = TitleTokenClaims(
            subject: nil, titles: ["1234"], issuedAt: now, expiresAt: now.addingTimeInterval(3600))

        let hs384 = try await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha384).sign(claims)
        await Self.expectRefused(authority, hs384)
        let hs512 = try await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha512).sign(claims)
        await Self.expectRefused(authority, hs512)

        let hs256 = JWTKeyCollection()
        await hs256.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        #expect(try await authority.verify(try await hs256.sign(claims)) == claims)
        await Self.expectRefused(authority, try await hs256.sign(claims, header: ["alg": "HS384"]))
        await Self.expectRefused(authority, try await hs256.sign(claims, header: ["alg": "hs256"]))
        await Self.expectRefused(authority, try await hs256.sign(claims, header: ["crit": .array([.string("exp")])]))
    }

    /// A payload jwt-kit can sign that is not a valid title token.
    struct OtherPayload: JWTPayload {
        var titles: [String]?
        var iat: IssuedAtClaim
        var exp: ExpirationClaim?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    @Test("a genuinely signed token must have titles (non-empty, valid ids), iat and exp")
    func claimRules() async throws {
        let authority = try await Self.authority()
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: Self.secret), digestAlgorithm: .sha256)
        let now = Date()
        let later = ExpirationClaim(value: now.addingTimeInterval(3600))
        await Self.expectRefused(
            authority, try await keys.sign(OtherPayload(titles: [], iat: .init(value: now), exp: later)))
        await Self.expectRefused(
            authority, try await keys.sign(OtherPayload(titles: ["bad title"], iat: .init(value: now), exp: later)))
        await Self.expectRefused(
            authority, try await keys.sign(OtherPayload(titles: nil, iat: .init(value: now), exp: later)))
        await Self.expectRefused(
            authority, try await keys.sign(OtherPayload(titles: ["1234"], iat: .init(value: now), exp: nil)))
        #expect(
            try await authority.verify(
                try await keys.sign(OtherPayload(titles: ["1234"], iat: .init(value: now), exp: later))
            ).titles == ["1234"])
    }

    @Test("garbage is refused as InvalidToken without being repeated")
    func garbage() async throws {
        let authority = try await Self.authority()
        for token in [
            "", "abc", "a.b", "a.b.c", "a.b.c.d", "...", "ey.ey.ey", "not a token at all",
            String(repeating: "A", count: 20_000) + ".e30.",
            Self.base64URL(Array("{}".utf8)) + "." + Self.base64URL(Array(Self.claimsJSON().utf8)) + ".",
        ] {
            await Self.expectRefused(authority, token, "\(token.prefix(40))")
        }
    }

    // MARK: - Header

    @Test("XBL3.0 header: scheme ignoring case, x= required, ';' required, non-empty token, spaces trimmed")
    func header() throws {
        func code(_ header: String?) -> TitleTokenError.Code? {
            do {
                _ = try XBLAuthorization.token(fromHeader: header)
                return nil
            } catch {
                #expect(!error.message.contains("secret-token"), "the message repeats the token")
                return error.code
            }
        }
        #expect(try XBLAuthorization.token(fromHeader: "XBL3.0 x=123456;eyJ.eyJ.sig") == "eyJ.eyJ.sig")
        #expect(try XBLAuthorization.token(fromHeader: "xbl3.0 x=-;tok") == "tok")
        #expect(try XBLAuthorization.token(fromHeader: "XbL3.0 x=abc;tok") == "tok")
        #expect(try XBLAuthorization.token(fromHeader: "  XBL3.0    x=abc;   tok  ") == "tok")
        #expect(try XBLAuthorization.token(fromHeader: "\tXBL3.0\tx=abc;tok\t") == "tok")
        #expect(try XBLAuthorization.token(fromHeader: "XBL3.0 x=;tok") == "tok", "the user hash may be empty")
        #expect(
            try XBLAuthorization.token(fromHeader: "XBL3.0 x=a b=c;tok") == "tok",
            "the user hash is any text without ';'")

        for missing in [nil, "", "   ", "\t"] as [String?] {
            #expect(code(missing) == .missingAuthorization, "\(String(describing: missing))")
        }
        for malformed in [
            "Bearer secret-token",
            "XBL2.0 x=abc;secret-token",
            "XBL3.0",
            "XBL3.0x=abc;secret-token",
            "XBL3.0 secret-token",
            "XBL3.0 y=abc;secret-token",
            "XBL3.0 x=abc secret-token",
            "XBL3.0 x=abc;",
            "XBL3.0 x=abc;   ",
            "XBL3.0 x=abc;secret token",
            "secret-token",
        ] {
            #expect(code(malformed) == .malformedAuthorization, "\(malformed)")
        }
    }

    @Test("a minted token travels in the header and verifies on the other side")
    func headerToVerify() async throws {
        let authority = try await Self.authority()
        let token = try await authority.mint(titles: ["1234"], subject: "ci")
        let header = "XBL3.0 x=-;\(token)"
        let claims = try await authority.verify(try XBLAuthorization.token(fromHeader: header))
        #expect(claims.titles == ["1234"])
        #expect(claims.subject == "ci")
    }
}
