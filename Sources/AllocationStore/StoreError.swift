public import SessionHostModel

/// A store refusal or failure, with a stable code.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// The store's codes.
    public struct Code: ErrorCode {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// No session host with this id is registered.
        public static let unknownHost = Code(rawValue: "UnknownHost")
        /// The host holds a session, so the change is refused.
        public static let hostHasSession = Code(rawValue: "HostHasSession")
        /// The host does not hold the session named.
        public static let sessionNotOnHost = Code(rawValue: "SessionNotOnHost")
        /// The host is registered for another title.
        public static let titleMismatch = Code(rawValue: "TitleMismatch")
        /// The database could not be read or written.
        public static let storeUnavailable = Code(rawValue: "StoreUnavailable")
        /// The database holds a schema newer than this build knows.
        public static let schemaTooNew = Code(rawValue: "SchemaTooNew")
    }

    public static func unknownHost(_ hostId: String) -> StoreError {
        StoreError(code: .unknownHost, message: "no session host \(hostId) is registered")
    }

    public static func hostHasSession(_ hostId: String, _ sessionId: String) -> StoreError {
        StoreError(code: .hostHasSession, message: "session host \(hostId) holds session \(sessionId)")
    }

    public static func titleMismatch(_ hostId: String) -> StoreError {
        StoreError(code: .titleMismatch, message: "session host \(hostId) is registered for another title")
    }

    /// The database could not be read or written; the message says why.
    public static func unavailable(_ message: String) -> StoreError {
        StoreError(code: .storeUnavailable, message: message)
    }

    /// The database holds a schema newer than this build knows.
    public static func schemaTooNew(found: Int, known: Int) -> StoreError {
        StoreError(
            code: .schemaTooNew, message: "the database has schema version \(found); this gsmsd knows up to \(known)")
    }
}
