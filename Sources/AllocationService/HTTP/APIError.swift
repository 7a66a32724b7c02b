import AllocationStore
import HTTPTypes
import Hummingbird
import SessionHostModel
import TitleTokens

/// An error answer of gsmsd: an HTTP status, a stable machine-readable code and a message for
/// people, written as `{"code": …, "message": …}`.
///
/// This is the HTTP edge: errors of the store (``StoreError``), of title tokens
/// (``TitleTokenError``) and of validation (``InvalidInput``) carry no status; they get theirs
/// here, in ``answer(for:)`` and the initialisers it uses, and nowhere else.
public struct APIError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: Code
    public var message: String
    /// Extra headers, e.g. `Retry-After` or `Allow`.
    public var headers: [String: String]

    public init(_ status: HTTPResponse.Status, code: Code, _ message: String, headers: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    /// The codes of gsmsd's own refusals; the codes of the store, title tokens and validation are
    /// answered as they are (`Code(storeError.code)`).
    public struct Code: ErrorCode {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        // Both APIs.
        public static let notFound = Code(rawValue: "NotFound")
        public static let methodNotAllowed = Code(rawValue: "MethodNotAllowed")
        public static let bodyTooLarge = Code(rawValue: "BodyTooLarge")
        public static let malformedBody = Code(rawValue: "MalformedBody")
        public static let badRequest = Code(rawValue: "BadRequest")
        public static let requestRefused = Code(rawValue: "RequestRefused")
        public static let internalError = Code(rawValue: "InternalError")
        public static let storeUnavailable = Code(rawValue: "StoreUnavailable")
        public static let titleNotSubscribed = Code(rawValue: "TitleNotSubscribed")
        // The public API.
        public static let titleNotAllowed = Code(rawValue: "TitleNotAllowed")
        public static let unsupportedContractVersion = Code(rawValue: "UnsupportedContractVersion")
        public static let allocationInProgress = Code(rawValue: "AllocationInProgress")
        public static let noStandingByHost = Code(rawValue: "NoStandingByHost")
        public static let sessionNotFound = Code(rawValue: "SessionNotFound")
        // The agent-facing API.
        public static let missingAgentToken = Code(rawValue: "MissingAgentToken")
        public static let malformedAuthorization = Code(rawValue: "MalformedAuthorization")
        public static let invalidAgentToken = Code(rawValue: "InvalidAgentToken")
        public static let missingHostKey = Code(rawValue: "MissingHostKey")
        public static let malformedHostKey = Code(rawValue: "MalformedHostKey")
        public static let hostKeyMismatch = Code(rawValue: "HostKeyMismatch")
        public static let invalidHostId = Code(rawValue: "InvalidHostId")
        public static let invalidWait = Code(rawValue: "InvalidWait")
        public static let unknownHost = Code(rawValue: "UnknownHost")
        public static let handoffExpired = Code(rawValue: "HandoffExpired")
        // The agent-facing calls for several hosts (`/agent/v1/sync`, `/agent/v1/handoffs`).
        public static let invalidHostCount = Code(rawValue: "InvalidHostCount")
        public static let duplicateHostId = Code(rawValue: "DuplicateHostId")
        public static let invalidHostReport = Code(rawValue: "InvalidHostReport")
        // The operator API.
        public static let missingOperatorToken = Code(rawValue: "MissingOperatorToken")
        public static let invalidOperatorToken = Code(rawValue: "InvalidOperatorToken")
        public static let invalidFilter = Code(rawValue: "InvalidFilter")
        public static let invalidDrain = Code(rawValue: "InvalidDrain")
    }

    static func badRequest(code: Code, _ message: String) -> APIError {
        APIError(.badRequest, code: code, message)
    }

    static func unauthorized(code: Code, _ message: String, scheme: String = "XBL3.0") -> APIError {
        APIError(.unauthorized, code: code, message, headers: ["WWW-Authenticate": scheme])
    }

    static func notFound(code: Code = .notFound, _ message: String) -> APIError {
        APIError(.notFound, code: code, message)
    }

    static func conflict(code: Code, _ message: String) -> APIError {
        APIError(.conflict, code: code, message)
    }

    static func methodNotAllowed(_ allowed: [HTTPRequest.Method]) -> APIError {
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        return APIError(
            .methodNotAllowed, code: .methodNotAllowed, "this path allows \(list)", headers: ["Allow": list])
    }

    static func noHost(retryAfterSeconds: Int) -> APIError {
        APIError(
            .serviceUnavailable, code: .noStandingByHost,
            "no StandingBy session host matches the request; retry later",
            headers: ["Retry-After": String(retryAfterSeconds)])
    }

    static func unavailable(_ message: String) -> APIError {
        APIError(.serviceUnavailable, code: .storeUnavailable, message, headers: ["Retry-After": "1"])
    }
}

// MARK: - The statuses of the domain errors

extension APIError {
    /// How gsmsd answers `error`: an `APIError` as it is, the store's, the title tokens' and
    /// validation's errors with their statuses, Hummingbird's own errors with gsmsd's codes; nil
    /// for an unexpected error (answered 500 without details).
    static func answer(for error: any Error) -> APIError? {
        switch error {
        case let error as APIError: error
        case let error as StoreError: APIError(error)
        case let error as TitleTokenError: APIError(error)
        case let error as InvalidInput: APIError(error)
        case let error as HTTPError: APIError(status: error.status, message: error.body)
        case let error as any HTTPResponseError: APIError(status: error.status, message: nil)
        default: nil
        }
    }

    /// Invalid input: 400 with its code.
    init(_ error: InvalidInput) {
        self = .badRequest(code: Code(error.code), error.message)
    }

    /// A refused title token: 401 with its code and `WWW-Authenticate: XBL3.0`.
    init(_ error: TitleTokenError) {
        self = .unauthorized(code: Code(error.code), error.message)
    }

    /// Store refusals: unknown host 404, conflicts 409, an unavailable database 503, a database
    /// of a newer version 500.
    init(_ error: StoreError) {
        switch error.code {
        case .unknownHost:
            self = .notFound(code: Code(error.code), error.message + "; register it with PUT first")
        case .storeUnavailable:
            self = .unavailable("the inventory database is unavailable; retry shortly")
        case .schemaTooNew:
            self = APIError(
                .internalServerError, code: .internalError, "the inventory database is not usable by this version")
        default:
            self = .conflict(code: Code(error.code), error.message)
        }
    }

    /// Hummingbird's own errors (unknown path, body too large, parse errors) with gsmsd's codes.
    init(status: HTTPResponse.Status, message: String?) {
        let code: Code
        switch status {
        case .notFound: code = .notFound
        case .methodNotAllowed: code = .methodNotAllowed
        case .contentTooLarge: code = .bodyTooLarge
        case .badRequest: code = .badRequest
        default: code = status.code >= 500 ? .internalError : .requestRefused
        }
        let text = message ?? status.reasonPhrase
        self.init(status, code: code, text.isEmpty ? "\(status.code)" : text)
    }
}
