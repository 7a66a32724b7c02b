import FoundationEssentials
import JWTKit
import SessionHostModel

/// Mints and verifies title tokens: HS256 JWTs carrying ``TitleTokenClaims``, signed with one
/// ``TitleTokenKey``.
///
/// Only `HS256` is accepted: a token whose header names any other algorithm (`none`, `HS384`,
/// `RS256`…) is refused even if its signature would check out, and so is one with a `crit` header.
public struct TitleTokenAuthority: Sendable {
    /// The lifetimes ``mint(titles:subject:ttl:now:)`` accepts, in seconds: one second to 365 days.
    public static let ttlRange: ClosedRange<Int64> = 1...31_536_000
    /// The default lifetime, in seconds.
    public static let defaultTTL: Int64 = 3600
    /// The longest token accepted or minted, in bytes.
    public static let maximumTokenLength = 16 * 1024
    /// The longest subject accepted when minting.
    public static let maximumSubjectLength = 256
    /// The one algorithm accepted.
    public static let algorithm = "HS256"

    private let keys: JWTKeyCollection

    /// An authority signing and verifying with `key`.
    public init(key: TitleTokenKey) async {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: key.bytes), digestAlgorithm: .sha256)
        self.keys = keys
    }

    /// Mints a token for `titles` (each checked with `TitleRules.validatedTitleID`; duplicates
    /// dropped), valid from `now` (whole seconds) for `ttl`.
    public func mint(
        titles: [String],
        subject: String? = nil,
        ttl: Duration = .seconds(TitleTokenAuthority.defaultTTL),
        now: Date = Date()
    ) async throws(TitleTokenError) -> String {
        var unique: [String] = []
        for title in titles {
            do throws(InvalidInput) {
                let valid = try TitleRules.validatedTitleID(title)
                if !unique.contains(valid) { unique.append(valid) }
            } catch {
                throw TitleTokenError(code: .invalidTitleId, message: error.message)
            }
        }
        guard !unique.isEmpty else {
            throw TitleTokenError(code: .noTitles, message: "a title token needs at least one title id")
        }
        if let subject, subject.isEmpty || subject.utf8.count > Self.maximumSubjectLength {
            throw TitleTokenError(
                code: .invalidSubject,
                message: "the subject must be 1 to \(Self.maximumSubjectLength) bytes")
        }
        let (seconds, fraction) = ttl.components
        guard fraction == 0, Self.ttlRange.contains(seconds) else {
            throw TitleTokenError(
                code: .invalidTTL,
                message:
                    "the token lifetime must be a whole number of seconds from \(Self.ttlRange.lowerBound) to \(Self.ttlRange.upperBound) (365 days)"
            )
        }
        let issuedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let claims = TitleTokenClaims(
            subject: subject, titles: unique, issuedAt: issuedAt,
            expiresAt: issuedAt.addingTimeInterval(Double(seconds)))
        let token: String
        do {
            token = try await keys.sign(claims)
        } catch {
            throw TitleTokenError(code: .signingFailed, message: "could not sign the title token: \(error)")
        }
        guard token.utf8.count <= Self.maximumTokenLength else {
            throw TitleTokenError(
                code: .tokenTooLarge,
                message:
                    "a token for \(unique.count) titles would be \(token.utf8.count) bytes; at most \(Self.maximumTokenLength) are accepted"
            )
        }
        return token
    }

    /// Verifies `token` (the part after `;` in `XBL3.0 x=<userhash>;<token>`): well-formed, HS256,
    /// signed with this authority's key, not expired, naming at least one valid title id.
    ///
    /// Every failure is a ``TitleTokenError`` with code `InvalidToken` or `TokenExpired`.
    public func verify(_ token: String) async throws(TitleTokenError) -> TitleTokenClaims {
        guard !token.isEmpty, token.utf8.count <= Self.maximumTokenLength else {
            throw Self.invalid(
                token.isEmpty ? "the token is empty" : "the token is longer than \(Self.maximumTokenLength) bytes")
        }
        // jwt-kit verifies with the configured key whatever the header's `alg` says; insist on
        // HS256 so that no token can choose its own algorithm.
        let header: JWTHeader
        do {
            header = try DefaultJWTParser().parse(Array(token.utf8), as: TitleTokenClaims.self).header
        } catch {
            throw Self.invalid("the token is not a well-formed title token (a JWT with sub, titles, iat and exp)")
        }
        guard header.alg == Self.algorithm else {
            throw Self.invalid("the token is not signed with \(Self.algorithm), the only algorithm accepted")
        }
        guard header.fields["crit"] == nil else {
            throw Self.invalid("the token has critical header extensions, which are not supported")
        }
        do {
            return try await keys.verify(token, as: TitleTokenClaims.self)
        } catch let error as JWTError {
            switch error.errorType {
            case .claimVerificationFailure where error.failedClaim is ExpirationClaim:
                throw TitleTokenError(code: .tokenExpired, message: "the title token has expired; mint a new one")
            case .claimVerificationFailure:
                throw Self.invalid(error.reason ?? "the token's claims are not valid")
            case .signatureVerificationFailed:
                throw Self.invalid("the token's signature does not match the configured key")
            case .malformedToken:
                throw Self.invalid("the token is not a well-formed title token (a JWT with sub, titles, iat and exp)")
            default:
                throw Self.invalid("the token could not be verified")
            }
        } catch {
            throw Self.invalid("the token could not be verified")
        }
    }

    private static func invalid(_ message: String) -> TitleTokenError {
        TitleTokenError(code: .invalidToken, message: message)
    }
}
