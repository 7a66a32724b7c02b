/// Why a request of an ``HTTP1Client`` got no (whole) answer.
public enum HTTP1ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No connection could be made; `reason` says why in words.
    case cannotConnect(HTTPClientAddress, HTTPConnectFailure)
    /// The deadline passed before the whole answer arrived (the connection is closed).
    case timedOut
    /// The connection closed (or failed) before the whole answer arrived; `answerStarted` when
    /// part of it had come.
    case connectionClosed(answerStarted: Bool)
    /// The answer's body (or a streamed line) is over `limit` bytes; it was not read.
    case answerTooLarge(limit: Int)
    /// The connection is already carrying an exchange.
    case busy

    public var description: String {
        switch self {
        case .cannotConnect(let address, let reason): "cannot connect to \(address): \(reason)"
        case .timedOut: "no answer in time"
        case .connectionClosed: "the connection closed before the answer was complete"
        case .answerTooLarge(let limit): "the answer is over \(limit) bytes"
        case .busy: "the connection is busy"
        }
    }
}
