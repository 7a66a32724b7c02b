import AllocationStore
import Hummingbird
import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The query of an operator API listing: filters, `limit` and `after`, checked. Unknown
/// parameters are refused, so that a misspelt filter never silently lists everything.
struct OperatorQuery {
    private let parameters: [String: String]

    /// Rows per page unless `limit` says otherwise, and the most it may say.
    static let defaultLimit = 100
    static let maximumLimit = 1000

    init(_ request: Request, allowed: Set<String>) throws(APIError) {
        var parameters: [String: String] = [:]
        for (name, value) in request.uri.queryParameters {
            let name = String(name)
            guard allowed.contains(name) || name == "limit" || name == "after" else {
                throw APIError.badRequest(
                    code: .invalidFilter,
                    "unknown query parameter '\(name.prefix(64))'; this listing takes \((allowed.sorted() + ["limit", "after"]).joined(separator: ", "))"
                )
            }
            guard parameters[name] == nil else {
                throw APIError.badRequest(code: .invalidFilter, "query parameter '\(name)' is given twice")
            }
            parameters[name] = String(value)
        }
        self.parameters = parameters
    }

    /// A text filter: absent, or 1 to 256 bytes.
    func text(_ name: String) throws(APIError) -> String? {
        guard let value = parameters[name] else { return nil }
        guard !value.isEmpty, value.utf8.count <= HostRegistration.maximumValueLength else {
            throw APIError.badRequest(
                code: .invalidFilter, "\(name) must be 1 to \(HostRegistration.maximumValueLength) bytes")
        }
        return value
    }

    func titleId() throws(APIError) -> String? {
        guard let value = try text("titleId") else { return nil }
        do {
            return try TitleRules.validatedTitleID(value)
        } catch {
            throw APIError.badRequest(code: .invalidFilter, error.message)
        }
    }

    func state() throws(APIError) -> HostState? {
        guard let value = parameters["state"] else { return nil }
        guard let state = HostState.allCases.first(where: { $0.rawValue.lowercased() == value.lowercased() }) else {
            throw APIError.badRequest(
                code: .invalidFilter,
                "state must be one of \(HostState.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return state
    }

    func bool(_ name: String) throws(APIError) -> Bool? {
        guard let value = parameters[name] else { return nil }
        switch value.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw APIError.badRequest(code: .invalidFilter, "\(name) must be true or false")
        }
    }

    func limit() throws(APIError) -> Int {
        guard let value = parameters["limit"] else { return Self.defaultLimit }
        guard let limit = Int(value), (1...Self.maximumLimit).contains(limit) else {
            throw APIError.badRequest(code: .invalidFilter, "limit must be 1 to \(Self.maximumLimit)")
        }
        return limit
    }

    /// The raw `after` (the `next` of the previous page).
    var after: String? { parameters["after"] }
}

/// The `next` of a page of sessions: title and session id, opaque to callers (base64url of JSON).
enum SessionPageToken {
    private struct Token: Codable {
        var t: String
        var s: String
    }

    static func encode(_ cursor: SessionCursor) -> String {
        let data = (try? JSONEncoder().encode(Token(t: cursor.titleId, s: cursor.sessionId))) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) throws(APIError) -> SessionCursor {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        guard text.utf8.count <= 2048, let data = Data(base64Encoded: base64),
            let token = try? JSONDecoder().decode(Token.self, from: data)
        else {
            throw APIError.badRequest(code: .invalidFilter, "after must be the 'next' of a previous page")
        }
        return SessionCursor(titleId: token.t, sessionId: token.s)
    }
}
