public import SessionHostModel

/// Why a title token could not be loaded, minted or accepted, with a stable machine-readable code.
///
/// Messages are for people and never contain the token or the key.
public struct TitleTokenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable code, one of ``Code``.
    public var code: Code
    /// What is wrong and, where there is one, the fix.
    public var message: String

    /// An error with a stable `code` (one of ``Code``) and a `message` for people.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message followed by the code in brackets.
    public var description: String { "\(message) [\(code)]" }

    /// The stable codes, written on the wire as their names with a capital first letter.
    public struct Code: ErrorCode {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The key file cannot be read.
        public static let keyUnreadable = Code(rawValue: "KeyUnreadable")
        /// The key has fewer than ``TitleTokenKey/minimumLength`` bytes.
        public static let keyTooShort = Code(rawValue: "KeyTooShort")
        /// No `Authorization` header.
        public static let missingAuthorization = Code(rawValue: "MissingAuthorization")
        /// An `Authorization` header not of the form `XBL3.0 x=<userhash>;<token>`.
        public static let malformedAuthorization = Code(rawValue: "MalformedAuthorization")
        /// A token that is not a well-formed HS256 JWT signed with the configured key, or whose
        /// claims are not valid.
        public static let invalidToken = Code(rawValue: "InvalidToken")
        /// A genuine token past its `exp`.
        public static let tokenExpired = Code(rawValue: "TokenExpired")
        /// Minting: no title id given.
        public static let noTitles = Code(rawValue: "NoTitles")
        /// Minting: a title id that breaks the title id rule.
        public static let invalidTitleId = Code(rawValue: "InvalidTitleId")
        /// Minting: a subject that is empty or too long.
        public static let invalidSubject = Code(rawValue: "InvalidSubject")
        /// Minting: a lifetime outside ``TitleTokenAuthority/ttlRange``.
        public static let invalidTTL = Code(rawValue: "InvalidTTL")
        /// Minting: the token would be longer than ``TitleTokenAuthority/maximumTokenLength``.
        public static let tokenTooLarge = Code(rawValue: "TokenTooLarge")
        /// Minting: the JWT library failed to sign.
        public static let signingFailed = Code(rawValue: "SigningFailed")
    }

    /// True for the codes that mean "not authenticated" when verifying a request.
    public var isAuthenticationFailure: Bool {
        [.missingAuthorization, .malformedAuthorization, .invalidToken, .tokenExpired].contains(code)
    }
}
