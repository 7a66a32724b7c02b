import Crypto
import Hummingbird
import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Checks the fleet secret that agents present as `Authorization: Bearer <secret>`, in constant
/// time (the SHA-256 digests of the two values are compared without an early exit).
struct FleetAuthenticator: Sendable {
    private let expectedDigest: [UInt8]

    /// The secret must be at least this long.
    static let minimumSecretBytes = 32

    init(secret: [UInt8]) {
        self.expectedDigest = Array(SHA256.hash(data: secret))
    }

    /// Loads the secret file: its bytes, one trailing newline removed.
    static func load(path: String) throws(InvalidInput) -> FleetAuthenticator {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InvalidInput(
                code: .agentTokenUnreadable,
                message: "cannot read the agent token file \(path): \(FileErrorDescription.describe(path: path))")
        }
        var bytes = [UInt8](data)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.count >= minimumSecretBytes else {
            throw InvalidInput(
                code: .agentTokenTooShort,
                message:
                    "the agent token file \(path) holds \(bytes.count) bytes; at least \(minimumSecretBytes) are needed"
            )
        }
        return FleetAuthenticator(secret: bytes)
    }

    /// Throws 401 unless the request carries the fleet secret.
    func authenticate(_ request: Request) throws(APIError) {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized(
                code: .missingAgentToken, "agents authenticate with 'Authorization: Bearer <fleet secret>'",
                scheme: "Bearer")
        }
        let prefix = "bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix else {
            throw APIError.unauthorized(
                code: .malformedAuthorization, "expected 'Authorization: Bearer <fleet secret>'", scheme: "Bearer")
        }
        let given = Array(SHA256.hash(data: Array(header.dropFirst(prefix.count).utf8)))
        var difference: UInt8 = 0
        for (left, right) in zip(given, expectedDigest) { difference |= left ^ right }
        guard difference == 0 else {
            throw APIError.unauthorized(code: .invalidAgentToken, "the fleet secret is not valid", scheme: "Bearer")
        }
    }
}
