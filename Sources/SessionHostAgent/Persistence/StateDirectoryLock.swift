#if canImport(Glibc)
import Glibc
#endif

/// One agent per state directory: an exclusive `flock(2)` on `<state-dir>/lock`, held for the
/// agent's life and released by the kernel when the process ends, however it ends. The file
/// holds the owner's pid, so that a second agent can say which process has it.
public final class StateDirectoryLock: Sendable {
    private let descriptor: Int32
    public let path: String

    /// Takes the lock, or throws `StateDirectoryInUse` naming the agent that holds it.
    public init(directory: String) throws(AgentError) {
        path = directory + "/lock"
        // Held open read-only, so that the state's file system can still be remounted read-only.
        let descriptor = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            throw .stateNotSaved("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            let owner = Self.readOwner(descriptor)
            close(descriptor)
            if reason == EWOULDBLOCK {
                throw AgentError(
                    .failure, code: .stateDirectoryInUse,
                    message:
                        "another sessionhostd\(owner.map { " (pid \($0))" } ?? "") is using the state directory \(directory); "
                        + "each agent on a machine needs its own --state-dir, --socket and --host-id")
            }
            throw .stateNotSaved("cannot lock \(path): \(String(cString: strerror(reason)))")
        }
        self.descriptor = descriptor
        let writer = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        if writer >= 0 {
            let pid = Array("\(getpid())\n".utf8)
            _ = pid.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
            close(writer)
        }
    }

    deinit {
        close(descriptor)
    }

    private static func readOwner(_ descriptor: Int32) -> Int? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int(
            String(
                decoding: buffer[..<count].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }, as: UTF8.self)
        )
    }
}
