/// Why a title token could not be loaded, minted or accepted, with a stable machine-readable code.
///
/// Messages are for people and never contain the token or the key.
public struct TitleTokenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable code, one of ``Code``.
    public var code: String
    /// What is wrong and, where there is one, the fix.
    public var message: String

    /// An error with a stable `code` (one of ``Code``) and a `message` for people.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// The message followed by the code in brackets.
    public var description: String { "\(message) [\(code)]" }

    /// The stable codes.
    public enum Code {
        /// The key file cannot be read.
        public static let keyUnreadable = "KeyUnreadable"
        /// The key has fewer than ``TitleTokenKey/minimumLength`` bytes.
        public static let keyTooShort = "KeyTooShort"
        /// No `Authorization` header (HTTP 401).
        public static let missingAuthorization = "MissingAuthorization"
        /// An `Authorization` header not of the form `XBL3.0 x=<userhash>;<token>` (HTTP 401).
        public static let malformedAuthorization = "MalformedAuthorization"
        /// A token that is not a well-formed HS256 JWT signed with the configured key, or whose
        /// claims are not valid (HTTP 401).
        public static let invalidToken = "InvalidToken"
        /// A genuine token past its `exp` (HTTP 401).
        public static let tokenExpired = "TokenExpired"
        /// Minting: no title id given.
        public static let noTitles = "NoTitles"
        /// Minting: a title id that breaks the title id rule.
        public static let invalidTitleId = "InvalidTitleId"
        /// Minting: a subject that is empty or too long.
        public static let invalidSubject = "InvalidSubject"
        /// Minting: a lifetime outside ``TitleTokenAuthority/ttlRange``.
        public static let invalidTTL = "InvalidTTL"
        /// Minting: the token would be longer than ``TitleTokenAuthority/maximumTokenLength``.
        public static let tokenTooLarge = "TokenTooLarge"
        /// Minting: the JWT library failed to sign.
        public static let signingFailed = "SigningFailed"
    }

    /// True for the codes that mean "not authenticated" (HTTP 401) when verifying a request.
    public var isAuthenticationFailure: Bool {
        [Code.missingAuthorization, Code.malformedAuthorization, Code.invalidToken, Code.tokenExpired].contains(code)
    }
}
