import HTTPTypes
import Hummingbird

/// An error answer of gsmsd: an HTTP status, a stable machine-readable code and a message for
/// people, written as `{"code": …, "message": …}`.
public struct APIError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// Extra headers, e.g. `Retry-After` or `Allow`.
    public var headers: [String: String]

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, headers: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    static func badRequest(code: String, _ message: String) -> APIError {
        APIError(.badRequest, code: code, message)
    }

    static func unauthorized(code: String, _ message: String, scheme: String = "XBL3.0") -> APIError {
        APIError(.unauthorized, code: code, message, headers: ["WWW-Authenticate": scheme])
    }

    static func notFound(code: String = "NotFound", _ message: String) -> APIError {
        APIError(.notFound, code: code, message)
    }

    static func conflict(code: String, _ message: String) -> APIError {
        APIError(.conflict, code: code, message)
    }

    static func methodNotAllowed(_ allowed: [HTTPRequest.Method]) -> APIError {
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        return APIError(.methodNotAllowed, code: "MethodNotAllowed", "this path allows \(list)", headers: ["Allow": list])
    }

    static func noHost(retryAfterSeconds: Int) -> APIError {
        APIError(
            .serviceUnavailable, code: "NoStandingByHost",
            "no StandingBy session host matches the request; retry later",
            headers: ["Retry-After": String(retryAfterSeconds)])
    }

    static func unavailable(_ message: String) -> APIError {
        APIError(.serviceUnavailable, code: "StoreUnavailable", message, headers: ["Retry-After": "1"])
    }
}
