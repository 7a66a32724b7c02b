import SessionHostModel

/// An error of the agent: a stable code, a message for people and what kind of refusal or
/// failure it is. HTTP statuses are not the agent's concern: its servers map the kind to one
/// (`GameSocketAPI.status(of:)`), so the lifecycle says why, the edge says how.
public struct AgentError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Code
    public var message: String
    public var kind: Kind

    public init(_ kind: Kind, code: Code, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// What kind of refusal or failure an error is.
    public enum Kind: Sendable, Equatable {
        /// The request breaks a rule (a bad id, a cookie too long, a body that is not JSON).
        case invalidRequest
        /// The request does not fit the host's state (ready twice, end without a session).
        case conflict
        /// The caller may not do this.
        case forbidden
        /// No such endpoint or object.
        case notFound
        /// The endpoint exists, not with this method.
        case methodNotAllowed
        /// The agent cannot do it now (its state could not be saved); a retry may work.
        case unavailable
        /// The agent cannot start or serve (a socket, a directory, a file).
        case failure
    }

    /// The agent's error codes; validation codes come from `InvalidInput.Code`.
    public struct Code: ErrorCode {
        public var rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public static let wrongState = Code(rawValue: "WrongState")
        public static let malformedRequest = Code(rawValue: "MalformedRequest")
        public static let stateNotSaved = Code(rawValue: "StateNotSaved")
        public static let notFound = Code(rawValue: "NotFound")
        public static let methodNotAllowed = Code(rawValue: "MethodNotAllowed")
        public static let peerNotAllowed = Code(rawValue: "PeerNotAllowed")
        public static let notLocalMode = Code(rawValue: "NotLocalMode")
        public static let unknownSessionHost = Code(rawValue: "UnknownSessionHost")
        public static let socketBindFailed = Code(rawValue: "SocketBindFailed")
        public static let socketInUse = Code(rawValue: "SocketInUse")
        public static let socketDirectory = Code(rawValue: "SocketDirectory")
        public static let stateDirectoryInUse = Code(rawValue: "StateDirectoryInUse")
        public static let gsdkLogFolder = Code(rawValue: "GSDKLogFolder")
        public static let gsdkConfigNotWritten = Code(rawValue: "GSDKConfigNotWritten")
        public static let gsdkPortUnavailable = Code(rawValue: "GSDKPortUnavailable")
        public static let gsdkListenFailed = Code(rawValue: "GSDKListenFailed")
        public static let slotUnknown = Code(rawValue: "SlotUnknown")
        public static let draining = Code(rawValue: "Draining")
    }

    public var description: String { "\(code): \(message)" }

    public var body: ErrorBody { ErrorBody(code: code.rawValue, message: message) }

    static func wrongState(_ message: String) -> AgentError {
        AgentError(.conflict, code: .wrongState, message: message)
    }

    static func badRequest(_ validation: InvalidInput) -> AgentError {
        AgentError(.invalidRequest, code: Code(validation.code), message: validation.message)
    }

    static func malformed(_ message: String) -> AgentError {
        AgentError(.invalidRequest, code: .malformedRequest, message: message)
    }

    static func stateNotSaved(_ message: String) -> AgentError {
        AgentError(.unavailable, code: .stateNotSaved, message: message)
    }

    /// A failure to start or serve.
    static func failure(_ code: Code, _ message: String) -> AgentError {
        AgentError(.failure, code: code, message: message)
    }
}
