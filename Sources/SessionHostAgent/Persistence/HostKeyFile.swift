#if canImport(Glibc)
import Glibc
#endif

/// The agent's host key: a random secret made on the first start with a control plane and kept
/// in `host-key` in the state directory (mode 0600). gsmsd binds the host id to the first key it
/// sees, so only this agent can act for its host (docs/control-plane-api.md, "Host keys").
/// Losing the file locks the host id out until it is deregistered.
public struct HostKeyFile: Sendable {
    public let path: String

    public init(stateDirectory: String) {
        path = stateDirectory + "/host-key"
    }

    /// The saved key, or a new one saved durably before it is returned.
    public func loadOrCreate() throws(AgentError) -> String {
        let existing: [UInt8]?
        do {
            existing = try AtomicFile.read(path)
        } catch {
            throw .stateNotSaved("cannot read the host key \(path): \(error)")
        }
        if let existing {
            var text = existing
            while let last = text.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { text.removeLast() }
            let key = String(decoding: text, as: UTF8.self)
            guard Self.isWellFormed(key) else {
                throw .stateNotSaved(
                    "the host key \(path) is not 43 base64url characters; restore it from a backup, or deregister the host and delete the file"
                )
            }
            return key
        }
        let key = Self.generate()
        do {
            try AtomicFile.write(Array((key + "\n").utf8), to: path, mode: 0o600)
        } catch {
            throw .stateNotSaved("cannot save the new host key to \(path): \(error)")
        }
        return key
    }

    /// 32 random bytes (the system's cryptographic generator), base64url without padding.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return base64URL(bytes)
    }

    static func isWellFormed(_ key: String) -> Bool {
        key.utf8.count == 43
            && key.utf8.allSatisfy { byte in
                alphabet.contains(byte)
            }
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static func base64URL(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value: UInt32 = 0
            for (offset, byte) in chunk.enumerated() { value |= UInt32(byte) << (16 - 8 * offset) }
            let characters = chunk.count + 1
            for position in 0..<characters {
                out.append(alphabet[Int((value >> (18 - 6 * position)) & 0x3F)])
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
