import Crypto
import Hummingbird
import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Checks a shared secret presented as `Authorization: Bearer <secret>`, in constant time (the
/// SHA-256 digests of the two values are compared without an early exit). gsmsd has two: the
/// fleet secret of the agents (`--agent-token-file`) and the operator secret of the operator API
/// (`--operator-token-file`); each `Role` names its own codes, so neither can stand for the other.
struct BearerSecretAuthenticator: Sendable {
    /// Which secret, in the words and codes of its errors.
    struct Role: Sendable {
        /// E.g. "fleet secret".
        var name: String
        /// Who presents it, e.g. "agents".
        var presentedBy: String
        /// The flag of its file, e.g. "agent-token-file".
        var flag: String
        var missing: APIError.Code
        var invalid: APIError.Code
        var unreadable: InvalidInput.Code
        var tooShort: InvalidInput.Code

        /// The agents' fleet secret.
        static let fleet = Role(
            name: "fleet secret", presentedBy: "agents", flag: "agent-token-file", missing: .missingAgentToken,
            invalid: .invalidAgentToken, unreadable: .agentTokenUnreadable, tooShort: .agentTokenTooShort)
        /// The operator API's secret.
        static let `operator` = Role(
            name: "operator secret", presentedBy: "operators", flag: "operator-token-file",
            missing: .missingOperatorToken, invalid: .invalidOperatorToken, unreadable: .operatorTokenUnreadable,
            tooShort: .operatorTokenTooShort)
    }

    let role: Role
    private let expectedDigest: [UInt8]

    /// The secret must be at least this long.
    static let minimumSecretBytes = 32

    init(secret: [UInt8], role: Role) {
        self.role = role
        self.expectedDigest = Array(SHA256.hash(data: secret))
    }

    /// Loads the secret file: its bytes, one trailing newline removed.
    static func load(path: String, role: Role) throws(InvalidInput) -> BearerSecretAuthenticator {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InvalidInput(
                code: role.unreadable,
                message:
                    "cannot read the \(role.name) file \(path) (--\(role.flag)): \(FileErrorDescription.describe(path: path))"
            )
        }
        var bytes = [UInt8](data)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.count >= minimumSecretBytes else {
            throw InvalidInput(
                code: role.tooShort,
                message:
                    "the \(role.name) file \(path) holds \(bytes.count) bytes; at least \(minimumSecretBytes) are needed (create one with: head -c 32 /dev/urandom | base64 > FILE)"
            )
        }
        return BearerSecretAuthenticator(secret: bytes, role: role)
    }

    /// Throws 401 unless the request carries the secret.
    func authenticate(_ request: Request) throws(APIError) {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized(
                code: role.missing, "\(role.presentedBy) authenticate with 'Authorization: Bearer <\(role.name)>'",
                scheme: "Bearer")
        }
        let prefix = "bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix else {
            throw APIError.unauthorized(
                code: .malformedAuthorization, "expected 'Authorization: Bearer <\(role.name)>'", scheme: "Bearer")
        }
        let given = Array(SHA256.hash(data: Array(header.dropFirst(prefix.count).utf8)))
        var difference: UInt8 = 0
        for (left, right) in zip(given, expectedDigest) { difference |= left ^ right }
        guard difference == 0 else {
            throw APIError.unauthorized(code: role.invalid, "the \(role.name) is not valid", scheme: "Bearer")
        }
    }
}
