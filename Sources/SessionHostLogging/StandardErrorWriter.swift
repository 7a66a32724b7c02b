import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes whole lines to stderr, one `write(2)` per line under a lock, so that lines of
/// concurrent tasks never interleave. A short write (a pipe's buffer full) is continued, a
/// failed one dropped: logging never stops the daemon.
final class StandardErrorWriter: Sendable {
    static let shared = StandardErrorWriter()

    private let lock = Mutex(())

    func write(line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        lock.withLock { _ in
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0, errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }
}
