#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SessionHostModel

/// The one JSON error body of every server: `{"code":"…","message":"…"}` (`ErrorBody`), with
/// sorted keys and unescaped slashes.
public enum HTTPErrorEnvelope {
    /// The JSON bytes of `body`.
    public static func encode(_ body: ErrorBody) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(body))
        } catch {
            return Array(#"{"code":"InternalError","message":"could not encode the answer"}"#.utf8)
        }
    }

    /// The answer to a body over `limit` bytes: 413 `BodyTooLarge`.
    public static func bodyTooLarge(limit: Int) -> HTTPServerResponse {
        .error(status: 413, code: "BodyTooLarge", message: "request bodies are limited to \(limit) bytes")
    }
}
