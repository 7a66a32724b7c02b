import AllocationStore
import Crypto
import HTTPTypes
import Hummingbird
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Checks the per-host key that agents present as `SessionHost-Key: <key>` next to the fleet
/// secret. The fleet secret says "one of our agents"; the host key says "the agent of this host":
/// a host id is bound to the first key presented for it (by its registration) until the host
/// deregisters, so an agent cannot act for another host even though every agent knows the fleet
/// secret. Only the SHA-256 of a key is stored.
///
/// Keys known to match are cached for `cacheLifetime`, so that heartbeats and polls cost no
/// store call; a mismatch is always checked against the store.
final class HostKeyAuthenticator: Sendable {
    /// The request header that carries the key.
    static let headerName = HTTPField.Name("SessionHost-Key")!
    /// Keys are 32 to 256 characters of the base64url alphabet (sessionhostd generates 43).
    static let keyLengths = 32...256
    /// How long a matched key is trusted without asking the store again.
    static let cacheLifetime: Duration = .seconds(30)

    private let store: any InventoryStore
    private let matched = Mutex<[String: (digest: String, until: ContinuousClock.Instant)]>([:])

    init(store: any InventoryStore) {
        self.store = store
    }

    /// Throws 401 without a well-formed key and 403 when the host id is bound to another key.
    /// `registering` is set for `PUT` (a registration binds the key of a host not seen before).
    func authenticate(_ request: Request, hostId: String, registering: Bool) async throws {
        try await authenticate(digest: Self.digest(of: request), hostId: hostId, registering: registering)
    }

    /// As `authenticate(_:hostId:registering:)`, with the digest of the request's key read
    /// once (`digest(of:)`): the calls for several hosts (`/agent/v1/sync`, `/agent/v1/handoffs`)
    /// check one key against each host. Returns false when the host id is bound to no key (an
    /// unregistered host, unless `registering` bound it); throws 403 `HostKeyMismatch` when it is
    /// bound to another key.
    @discardableResult
    func authenticate(digest: String, hostId: String, registering: Bool) async throws -> Bool {
        let now = ContinuousClock.now
        let cached = matched.withLock { entries -> Bool in
            guard let entry = entries[hostId] else { return false }
            if entry.until < now {
                entries[hostId] = nil
                return false
            }
            return Self.equal(entry.digest, digest)
        }
        if cached { return true }
        let check = try await store.checkHostKey(hostId: hostId, digest: digest, bindIfAbsent: registering, at: Date())
        switch check {
        case .bound, .matched:
            matched.withLock { $0[hostId] = (digest, now + Self.cacheLifetime) }
            return true
        case .absent:
            return false // an unregistered host: the handler answers UnknownHost
        case .mismatched:
            throw APIError(
                .forbidden, code: .hostKeyMismatch,
                "session host \(hostId) belongs to the agent that registered it with another key; an agent acts only for its own host"
            )
        }
    }

    /// Forgets a host's key (after its deregistration).
    func forget(hostId: String) {
        _ = matched.withLock { $0.removeValue(forKey: hostId) }
    }

    /// The hex SHA-256 of the request's key, after checking its form.
    static func digest(of request: Request) throws(APIError) -> String {
        guard let key = request.headers[headerName] else {
            throw APIError.unauthorized(
                code: .missingHostKey,
                "agents present their host key as 'SessionHost-Key: <key>' next to the fleet secret",
                scheme: "Bearer")
        }
        guard keyLengths.contains(key.utf8.count), key.utf8.allSatisfy(isKeyCharacter) else {
            throw APIError.unauthorized(
                code: .malformedHostKey,
                "a host key is \(keyLengths.lowerBound) to \(keyLengths.upperBound) characters of A-Z, a-z, 0-9, '-' and '_'",
                scheme: "Bearer")
        }
        return SHA256.hash(data: Array(key.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    private static func isKeyCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    /// Compares two digests without an early exit.
    private static func equal(_ left: String, _ right: String) -> Bool {
        let a = Array(left.utf8)
        let b = Array(right.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
