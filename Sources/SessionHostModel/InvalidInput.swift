/// Input that breaks a rule of the contract, with a stable machine-readable code.
public struct InvalidInput: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable code, e.g. `InvalidSessionId`.
    public var code: String
    /// A message for people, saying what is wrong and what is expected.
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
