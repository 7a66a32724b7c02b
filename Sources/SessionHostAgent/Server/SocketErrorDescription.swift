import NIOCore

#if canImport(Glibc)
import Glibc
#endif
import SessionHostModel

/// A failed socket call in words ("address already in use"), without the name of the system
/// call NIO made (`bind(descriptor:ptr:bytes:)`).
enum SocketErrorDescription {
    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError {
            switch error.errnoCode {
            case EADDRINUSE: return "address already in use (another program listens there)"
            case EADDRNOTAVAIL: return "no such address on this machine"
            case EACCES: return "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
            default: return FileErrorDescription.words(errno: error.errnoCode)
            }
        }
        return "\(error)"
    }
}
