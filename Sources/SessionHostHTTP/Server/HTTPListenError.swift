import NIOCore
import SessionHostModel

/// An `HTTPServer` could not listen: "cannot listen on ADDRESS: address already in use".
public struct HTTPListenError: Error, Sendable, CustomStringConvertible {
    /// The address in words (`HTTPListenAddress.description`).
    public var address: String
    /// Why, in words (`SocketErrorDescription`), without the name of the system call.
    public var reason: String
    /// The `errno` of the failed call, when there was one.
    public var errno: Int32?

    public init(address: String, reason: String, errno: Int32? = nil) {
        self.address = address
        self.reason = reason
        self.errno = errno
    }

    /// The failure of listening on `address`, in words.
    init(address: HTTPListenAddress, error: any Error) {
        if let error = error as? IOError {
            self.init(
                address: address.description, reason: SocketErrorDescription.words(errno: error.errnoCode),
                errno: error.errnoCode)
        } else {
            self.init(address: address.description, reason: "\(error)")
        }
    }

    public var description: String { "cannot listen on \(address): \(reason)" }
}
