/// A stable, machine-readable error code: a string on the wire (`rawValue`, as JSON a plain
/// string) and a type in code, so that codes are compared as values (`error.code == .invalidPort`),
/// never as strings. Each error type has its own `Code` with its codes as static members.
public protocol ErrorCode: RawRepresentable<String>, Hashable, Sendable, CustomStringConvertible, Codable {
    init(rawValue: String)
}

extension ErrorCode {
    /// The code as written on the wire.
    public var description: String { rawValue }

    /// The same code as another error type's (e.g. a store code answered by the HTTP API).
    public init(_ other: some ErrorCode) { self.init(rawValue: other.rawValue) }
}

/// Input that breaks a rule of the contract, with a stable machine-readable code.
public struct InvalidInput: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable code, e.g. ``Code/invalidSessionId``.
    public var code: Code
    /// A message for people, saying what is wrong and what is expected.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The codes of invalid input, written on the wire as their names with a capital first letter.
    public struct Code: ErrorCode {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        // The public REST API (docs/rest-api.md).
        public static let invalidTitleId = Code(rawValue: "InvalidTitleId")
        public static let invalidSessionId = Code(rawValue: "InvalidSessionId")
        public static let sessionCookieTooLarge = Code(rawValue: "SessionCookieTooLarge")
        public static let valueTooLong = Code(rawValue: "ValueTooLong")
        public static let tooManyLocations = Code(rawValue: "TooManyLocations")
        public static let invalidLocation = Code(rawValue: "InvalidLocation")
        // The agent-facing API.
        public static let invalidRegistration = Code(rawValue: "InvalidRegistration")
        // Fleet operations (drain, operator API, standby buffers).
        public static let invalidDrain = Code(rawValue: "InvalidDrain")
        public static let invalidFilter = Code(rawValue: "InvalidFilter")
        public static let invalidStandbyBuffer = Code(rawValue: "InvalidStandbyBuffer")
        public static let invalidScalingHook = Code(rawValue: "InvalidScalingHook")
        public static let operatorTokenUnreadable = Code(rawValue: "OperatorTokenUnreadable")
        public static let operatorTokenTooShort = Code(rawValue: "OperatorTokenTooShort")
        // Configuration and command lines of both daemons.
        public static let configUnreadable = Code(rawValue: "ConfigUnreadable")
        public static let configInvalid = Code(rawValue: "ConfigInvalid")
        public static let unknownConfigKey = Code(rawValue: "UnknownConfigKey")
        public static let invalidLogLevel = Code(rawValue: "InvalidLogLevel")
        public static let invalidPort = Code(rawValue: "InvalidPort")
        public static let invalidListen = Code(rawValue: "InvalidListen")
        public static let invalidMetricsListen = Code(rawValue: "InvalidMetricsListen")
        public static let invalidDatabase = Code(rawValue: "InvalidDatabase")
        public static let invalidTimeout = Code(rawValue: "InvalidTimeout")
        public static let invalidHealthTimeout = Code(rawValue: "InvalidHealthTimeout")
        public static let invalidIdleTimeout = Code(rawValue: "InvalidIdleTimeout")
        public static let invalidAllocationStrategy = Code(rawValue: "InvalidAllocationStrategy")
        public static let invalidHostId = Code(rawValue: "InvalidHostId")
        public static let invalidSecureContext = Code(rawValue: "InvalidSecureContext")
        public static let invalidGSDKListen = Code(rawValue: "InvalidGSDKListen")
        public static let gsdkListenNotLoopback = Code(rawValue: "GSDKListenNotLoopback")
        public static let missingGSDKListen = Code(rawValue: "MissingGSDKListen")
        public static let invalidControlPlane = Code(rawValue: "InvalidControlPlane")
        public static let missingControlPlane = Code(rawValue: "MissingControlPlane")
        public static let missingAgentToken = Code(rawValue: "MissingAgentToken")
        public static let agentTokenUnreadable = Code(rawValue: "AgentTokenUnreadable")
        public static let agentTokenTooShort = Code(rawValue: "AgentTokenTooShort")
        public static let missingTitleId = Code(rawValue: "MissingTitleId")
        public static let missingTokenKey = Code(rawValue: "MissingTokenKey")
        public static let unknownUser = Code(rawValue: "UnknownUser")
        public static let unknownGroup = Code(rawValue: "UnknownGroup")
    }
}
