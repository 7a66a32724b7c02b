import FoundationEssentials
import JWTKit
import SessionHostModel

/// The claims of a title token: who it was minted for and which titles it may use.
///
/// JSON: `{"sub": "…", "titles": ["1234ABCD"], "iat": 1700000000, "exp": 1700003600}`; `sub` is
/// optional, the others are required.
public struct TitleTokenClaims: JWTPayload, Equatable {
    /// Who the token was minted for (free text, for logs).
    public var sub: SubjectClaim?
    /// The title ids the caller may use; never empty.
    public var titles: [String]
    /// When the token was minted.
    public var iat: IssuedAtClaim
    /// When the token stops being accepted.
    public var exp: ExpirationClaim

    /// Claims as given; ``TitleTokenAuthority/mint(titles:subject:ttl:now:)`` validates them first.
    public init(subject: String?, titles: [String], issuedAt: Date, expiresAt: Date) {
        sub = subject.map(SubjectClaim.init(value:))
        self.titles = titles
        iat = IssuedAtClaim(value: issuedAt)
        exp = ExpirationClaim(value: expiresAt)
    }

    /// The subject, if any.
    public var subject: String? { sub?.value }
    /// When the token was minted.
    public var issuedAt: Date { iat.value }
    /// When the token stops being accepted.
    public var expiresAt: Date { exp.value }

    /// Whether the token lets its bearer use `titleId` (exact match).
    public func covers(titleId: String) -> Bool { titles.contains(titleId) }

    /// Checks that the token has not expired and names at least one valid title id.
    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard !titles.isEmpty else {
            throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "the token names no title")
        }
        for title in titles {
            do {
                _ = try TitleRules.validatedTitleID(title)
            } catch {
                throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "the token names an invalid title id")
            }
        }
    }
}
