public import SessionHostModel

/// A call to gsmsd's public API that did not succeed: a refusal by the service (`status` set,
/// `code` from its error body), or no usable answer.
public struct TitleClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status of the last answer, or `nil` when gsmsd could not be reached.
    public var status: Int?
    /// The service's stable error code (e.g. `NoStandingByHost`, `TitleNotAllowed`), or one of
    /// the client's own: ``Code/unreachable``, ``Code/invalidAnswer``, ``Code/tokenUnavailable``,
    /// ``Code/cancelled``, ``Code/invalidRequest``.
    public var code: Code
    /// A message for people; the service's own when it sent one. Never contains the token.
    public var message: String
    /// The `X-XblCorrelationId` of the call (the service's echo, else the one sent); quote it when
    /// reporting a problem.
    public var correlationId: String?

    public init(status: Int?, code: Code, message: String, correlationId: String?) {
        self.status = status
        self.code = code
        self.message = message
        self.correlationId = correlationId
    }

    /// The service's codes (docs/rest-api.md) and the client's own, written on the wire as their
    /// names with a capital first letter. A code the service adds later is still a `Code`
    /// (`Code(rawValue:)`), just without a static member here.
    public struct Code: ErrorCode {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        // The client's own.
        /// No answer: connection refused or reset, DNS failure, timeout.
        public static let unreachable = Code(rawValue: "Unreachable")
        /// An answer that is not what the API promises (not JSON, missing members).
        public static let invalidAnswer = Code(rawValue: "InvalidAnswer")
        /// The token provider threw.
        public static let tokenUnavailable = Code(rawValue: "TokenUnavailable")
        /// The calling task was cancelled.
        public static let cancelled = Code(rawValue: "Cancelled")
        /// The request could not be built (bad base URL, unencodable body).
        public static let invalidRequest = Code(rawValue: "InvalidRequest")

        // The service's.
        public static let invalidTitleId = Code(rawValue: "InvalidTitleId")
        public static let unsupportedContractVersion = Code(rawValue: "UnsupportedContractVersion")
        public static let malformedBody = Code(rawValue: "MalformedBody")
        public static let invalidSessionId = Code(rawValue: "InvalidSessionId")
        public static let sessionCookieTooLarge = Code(rawValue: "SessionCookieTooLarge")
        public static let valueTooLong = Code(rawValue: "ValueTooLong")
        public static let tooManyLocations = Code(rawValue: "TooManyLocations")
        public static let invalidLocation = Code(rawValue: "InvalidLocation")
        public static let missingAuthorization = Code(rawValue: "MissingAuthorization")
        public static let malformedAuthorization = Code(rawValue: "MalformedAuthorization")
        public static let invalidToken = Code(rawValue: "InvalidToken")
        public static let tokenExpired = Code(rawValue: "TokenExpired")
        public static let titleNotAllowed = Code(rawValue: "TitleNotAllowed")
        public static let titleNotSubscribed = Code(rawValue: "TitleNotSubscribed")
        public static let sessionNotFound = Code(rawValue: "SessionNotFound")
        public static let notFound = Code(rawValue: "NotFound")
        public static let methodNotAllowed = Code(rawValue: "MethodNotAllowed")
        public static let allocationInProgress = Code(rawValue: "AllocationInProgress")
        public static let bodyTooLarge = Code(rawValue: "BodyTooLarge")
        public static let internalError = Code(rawValue: "InternalError")
        public static let noStandingByHost = Code(rawValue: "NoStandingByHost")
        public static let storeUnavailable = Code(rawValue: "StoreUnavailable")
    }

    /// Whether gsmsd could not be reached at all.
    public var isUnreachable: Bool { status == nil && code == .unreachable }

    public var description: String {
        var text = "\(message) [\(code)"
        if let status { text += ", HTTP \(status)" }
        if let correlationId { text += ", correlation id \(correlationId)" }
        return text + "]"
    }
}
