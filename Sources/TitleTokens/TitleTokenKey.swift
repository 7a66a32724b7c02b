import FoundationEssentials

/// The HMAC secret that signs and verifies title tokens (HS256).
///
/// From a file (`--key-file`, `--token-key-file`): the file's bytes, with one trailing `"\n"` or
/// `"\r\n"` removed, so that `echo`-made and editor-saved files work; at least
/// ``minimumLength`` bytes remain.
public struct TitleTokenKey: Sendable, CustomStringConvertible {
    /// The fewest bytes a key may have: the output size of SHA-256 (RFC 7518 §3.2).
    public static let minimumLength = 32

    let bytes: [UInt8]

    /// Uses `bytes` as they are (no newline is removed).
    public init(bytes: some Sequence<UInt8>) throws(TitleTokenError) {
        let bytes = Array(bytes)
        guard bytes.count >= Self.minimumLength else {
            throw TitleTokenError(
                code: .keyTooShort,
                message: "the token key has \(bytes.count) bytes; at least \(Self.minimumLength) are needed")
        }
        self.bytes = bytes
    }

    /// Reads the key from the file at `path`.
    public init(contentsOfFile path: String) throws(TitleTokenError) {
        var bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            let reason =
                FileManager.default.fileExists(atPath: path)
                ? "it exists but cannot be read (is it a directory, or not readable by this user?)" : "no such file"
            throw TitleTokenError(
                code: .keyUnreadable,
                message: "cannot read the token key file \(path): \(reason)")
        }
        if bytes.last == UInt8(ascii: "\n") {
            bytes.removeLast()
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        }
        guard bytes.count >= Self.minimumLength else {
            throw TitleTokenError(
                code: .keyTooShort,
                message: """
                    the token key file \(path) holds \(bytes.count) bytes (not counting one trailing newline); \
                    at least \(Self.minimumLength) are needed. Make one with: head -c 48 /dev/urandom | base64 > \(path)
                    """)
        }
        self.bytes = bytes
    }

    /// The key's length in bytes.
    public var byteCount: Int { bytes.count }

    /// Never shows the secret.
    public var description: String { "TitleTokenKey(\(bytes.count) bytes)" }
}
