import SessionHostModel

/// A failed call to gsmsd: an HTTP refusal (`status` set) or no answer at all.
struct ControlPlaneError: Error, Sendable, CustomStringConvertible {
    var status: Int?
    var code: Code
    var message: String

    /// gsmsd's error code (docs/control-plane-api.md), or one of the agent's own when there was
    /// no usable answer.
    struct Code: ErrorCode {
        var rawValue: String

        init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// gsmsd does not know this host id.
        static let unknownHost = Code(rawValue: "UnknownHost")
        /// gsmsd binds this host id to another agent's host key.
        static let hostKeyMismatch = Code(rawValue: "HostKeyMismatch")
        /// The fleet secret is wrong.
        static let invalidAgentToken = Code(rawValue: "InvalidAgentToken")
        /// No fleet secret was sent.
        static let missingAgentToken = Code(rawValue: "MissingAgentToken")
        /// The `Authorization` header is not `Bearer <secret>`.
        static let malformedAuthorization = Code(rawValue: "MalformedAuthorization")
        /// gsmsd serves no such title.
        static let titleNotSubscribed = Code(rawValue: "TitleNotSubscribed")
        /// The agent's own: gsmsd's answer could not be decoded.
        static let invalidAnswer = Code(rawValue: "InvalidAnswer")
        /// The agent's own: no answer (no connection, a timeout, a closed connection).
        static let unreachable = Code(rawValue: "Unreachable")

        /// The agent's own, for a refusal without an error body: `HTTP<status>`.
        static func http(_ status: UInt) -> Code { Code(rawValue: "HTTP\(status)") }
    }

    var description: String { "\(code): \(message)" }

    /// gsmsd does not know this host (it must register again).
    var isUnknownHost: Bool { status == 404 && code == .unknownHost }

    /// gsmsd binds this host id to another agent's key.
    var isForeignHostKey: Bool { status == 403 && code == .hostKeyMismatch }

    /// A refusal a retry will not change (bad request, bad secret, conflict).
    var isRefusal: Bool {
        if let status { return (400..<500).contains(status) && status != 408 && status != 429 } else { return false }
    }
}
