#if canImport(Glibc)
import Glibc
#endif

/// Writes a file so that a crash at any moment leaves either the old or the new content:
/// a temporary file in the same directory, `fsync`, `rename` over the target, `fsync` of the
/// directory.
enum AtomicFile {
    struct WriteError: Error, CustomStringConvertible {
        var operation: String
        var path: String
        var errno: Int32

        var description: String {
            "\(operation) \(path): \(String(cString: strerror(errno)))"
        }
    }

    /// `exactMode`: the file gets `mode` whatever the process's umask. Without `durable`, the
    /// `fsync`s are left out: after a crash the file holds the old or the new content, but which
    /// one is up to the kernel.
    static func write(
        _ bytes: [UInt8], to path: String, mode: mode_t = 0o640, exactMode: Bool = false, durable: Bool = true
    ) throws(WriteError) {
        let directory = parentDirectory(of: path)
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw WriteError(operation: "open", path: temporary, errno: errno) }
        if exactMode { _ = fchmod(fd, mode) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                unlink(temporary)
                throw WriteError(operation: "write", path: temporary, errno: code)
            }
            written += result
        }
        if durable, fsync(fd) != 0 {
            let code = errno
            close(fd)
            unlink(temporary)
            throw WriteError(operation: "fsync", path: temporary, errno: code)
        }
        close(fd)
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw WriteError(operation: "rename", path: path, errno: code)
        }
        guard durable else { return }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// The whole file, or `nil` when it does not exist.
    static func read(_ path: String) throws(WriteError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw WriteError(operation: "open", path: path, errno: errno)
        }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw WriteError(operation: "read", path: path, errno: errno)
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }
}
