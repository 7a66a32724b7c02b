/// A store refusal or failure, with a stable code.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    public static func unknownHost(_ hostId: String) -> StoreError {
        StoreError(code: "UnknownHost", message: "no session host \(hostId) is registered")
    }

    public static func hostHasSession(_ hostId: String, _ sessionId: String) -> StoreError {
        StoreError(code: "HostHasSession", message: "session host \(hostId) holds session \(sessionId)")
    }

    public static func titleMismatch(_ hostId: String) -> StoreError {
        StoreError(code: "TitleMismatch", message: "session host \(hostId) is registered for another title")
    }

    /// The database could not be read or written; the message says why.
    public static func unavailable(_ message: String) -> StoreError {
        StoreError(code: "StoreUnavailable", message: message)
    }

    /// The database holds a schema newer than this build knows.
    public static func schemaTooNew(found: Int, known: Int) -> StoreError {
        StoreError(code: "SchemaTooNew", message: "the database has schema version \(found); this gsmsd knows up to \(known)")
    }
}
