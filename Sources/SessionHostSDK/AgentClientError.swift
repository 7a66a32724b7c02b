import SessionHostModel

/// An error from the agent, or from reaching it, with a stable code.
public struct AgentClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status the agent answered, or `nil` when it could not be reached.
    public var status: Int?
    /// The agent's error code (e.g. `WrongState`), or `AgentUnreachable`, `InvalidAnswer`.
    public var code: String
    public var message: String

    public init(status: Int?, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String {
        if let status { return "\(message) (\(code), HTTP \(status))" }
        return "\(message) (\(code))"
    }
}
