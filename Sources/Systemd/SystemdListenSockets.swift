import CSystemd

/// File descriptors passed by systemd socket activation (`sd_listen_fds(3)`).
public enum SystemdListenSockets {
    /// The descriptors systemd passed to this process, starting at `SD_LISTEN_FDS_START` (3).
    /// The environment variables are removed so that child processes do not inherit them.
    public static func take() -> [Int32] {
        let count = sd_listen_fds(1)
        guard count > 0 else { return [] }
        let first = Int32(SD_LISTEN_FDS_START)
        return (0..<count).map { first + $0 }
    }

    /// Whether `descriptor` is a listening Unix stream socket.
    public static func isListeningUnixStream(_ descriptor: Int32) -> Bool {
        sd_is_socket_unix(descriptor, Int32(SOCK_STREAM.rawValue), 1, nil, 0) > 0
    }
}
