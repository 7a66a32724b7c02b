import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a connection could not be made, as a kind a caller can put in its own words (the SDK
/// names the agent's socket and group), and in plain words by default.
public enum HTTPConnectFailure: Sendable, Equatable, CustomStringConvertible {
    /// No file at the socket's path (`ENOENT`, `ENOTDIR`).
    case noSocket
    /// This user may not use the socket (`EACCES`, `EPERM`).
    case permissionDenied
    /// Nothing listens: on a Unix socket, a socket file left behind (`ECONNREFUSED`).
    case refused
    /// The path is not a socket (`ENOTSOCK`).
    case notASocket
    /// The server's backlog is full (`EAGAIN`).
    case busy
    /// The attempt took too long.
    case timedOut
    /// Anything else, in words (the system's message for an errno).
    case other(String)

    public var description: String {
        switch self {
        case .noSocket: "no such file"
        case .permissionDenied: "permission denied"
        case .refused: "connection refused"
        case .notASocket: "not a socket"
        case .busy: "the server is too busy to take the connection"
        case .timedOut: "timed out"
        case .other(let words): words
        }
    }

    /// Classifies an error of a connection attempt.
    public init(_ error: any Error) {
        if let error = error as? HTTP1ClientError, case .cannotConnect(_, let reason) = error {
            self = reason
            return
        }
        if let error = error as? NIOConnectionError {
            // TCP: the first attempt's failure says most.
            if let first = error.connectionErrors.first {
                self.init(first.error)
            } else if let dns = error.dnsAError ?? error.dnsAAAAError {
                self = .other("cannot resolve \(error.host): \(dns)")
            } else {
                self = .other("cannot resolve \(error.host)")
            }
            return
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            self = .timedOut
            return
        }
        guard let error = error as? IOError else {
            self = .other("\(error)")
            return
        }
        switch error.errnoCode {
        case ENOENT, ENOTDIR: self = .noSocket
        case EACCES, EPERM: self = .permissionDenied
        case ECONNREFUSED: self = .refused
        case ENOTSOCK: self = .notASocket
        case EAGAIN: self = .busy
        default: self = .other(String(cString: strerror(error.errnoCode)))
        }
    }
}
