import SessionHostModel

/// An error the agent answers with: an HTTP status, a stable code and a message.
public struct AgentError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    public var body: ErrorBody { ErrorBody(code: code, message: message) }

    static func wrongState(_ message: String) -> AgentError {
        AgentError(status: 409, code: "WrongState", message: message)
    }

    static func badRequest(_ validation: InvalidInput) -> AgentError {
        AgentError(status: 400, code: validation.code.rawValue, message: validation.message)
    }

    static func malformed(_ message: String) -> AgentError {
        AgentError(status: 400, code: "MalformedRequest", message: message)
    }

    static func stateNotSaved(_ message: String) -> AgentError {
        AgentError(status: 503, code: "StateNotSaved", message: message)
    }
}
