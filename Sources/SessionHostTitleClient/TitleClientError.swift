/// A call to gsmsd's public API that did not succeed: a refusal by the service (`status` set,
/// `code` from its error body), or no usable answer.
public struct TitleClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status of the last answer, or `nil` when gsmsd could not be reached.
    public var status: Int?
    /// The service's stable error code (e.g. `NoStandingByHost`, `TitleNotAllowed`), or one of
    /// the client's own: ``Code/unreachable``, ``Code/invalidAnswer``, ``Code/tokenUnavailable``,
    /// ``Code/cancelled``, ``Code/invalidRequest``.
    public var code: String
    /// A message for people; the service's own when it sent one. Never contains the token.
    public var message: String
    /// The `X-XblCorrelationId` of the call (the service's echo, else the one sent); quote it when
    /// reporting a problem.
    public var correlationId: String?

    public init(status: Int?, code: String, message: String, correlationId: String?) {
        self.status = status
        self.code = code
        self.message = message
        self.correlationId = correlationId
    }

    /// The codes the client makes up itself.
    public enum Code {
        /// No answer: connection refused or reset, DNS failure, timeout.
        public static let unreachable = "Unreachable"
        /// An answer that is not what the API promises (not JSON, missing members).
        public static let invalidAnswer = "InvalidAnswer"
        /// The token provider threw.
        public static let tokenUnavailable = "TokenUnavailable"
        /// The calling task was cancelled.
        public static let cancelled = "Cancelled"
        /// The request could not be built (bad base URL, unencodable body).
        public static let invalidRequest = "InvalidRequest"
    }

    /// Whether gsmsd could not be reached at all.
    public var isUnreachable: Bool { status == nil && code == Code.unreachable }

    public var description: String {
        var text = "\(message) [\(code)"
        if let status { text += ", HTTP \(status)" }
        if let correlationId { text += ", correlation id \(correlationId)" }
        return text + "]"
    }
}
