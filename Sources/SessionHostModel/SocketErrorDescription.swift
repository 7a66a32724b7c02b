#if canImport(Glibc)
import Glibc
#endif

/// A failed `bind`/`listen` in words ("address already in use"), without the name of the system
/// call that failed: the one wording of the agent's servers and gsmsd.
public enum SocketErrorDescription {
    /// `code` (an `errno`) in words. `listener` names who else may be listening on the address
    /// ("another program listens there"); `option`, when given, is the command-line option that
    /// chose the address, and the words end with what to do about it ("; pick another --listen").
    public static func words(errno code: Int32, listener: String = "program", option: String? = nil) -> String {
        switch code {
        case EADDRINUSE:
            "address already in use (another \(listener) listens there)" + (option.map { "; pick another \($0)" } ?? "")
        case EADDRNOTAVAIL:
            "no such address on this machine" + (option.map { "; check \($0)" } ?? "")
        case EACCES:
            "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
        case ENOENT, ENOTDIR, ELOOP:
            // A Unix socket's path.
            FileErrorDescription.words(errno: code)
        default:
            String(cString: strerror(code))
        }
    }
}
