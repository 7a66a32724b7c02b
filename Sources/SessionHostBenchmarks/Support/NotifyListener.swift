#if canImport(Glibc)
import Glibc
#endif
import NIOPosix
import Synchronization

/// A datagram socket handed to a child as `NOTIFY_SOCKET`, to read what it tells systemd
/// (`READY=1`, `STATUS=…`) and when each message arrived. The blocking `poll`/`recv` run on
/// NIO's blocking-I/O thread pool, so the arrival time is taken the moment `recv` returns.
final class NotifyListener: Sendable {
    let path: String
    private let fd: Int32
    private let closed = Atomic<Bool>(false)

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            Glibc.close(fd)
            throw BenchError("the notify socket path \(path) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw BenchError("bind \(path): \(reason)")
        }
    }

    /// Throws away the messages already queued (those of an earlier process).
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT)) > 0 {}
    }

    /// The next message and when it arrived, or `nil` when none came within `timeout`.
    func receive(timeout: Duration) async throws -> (text: String, at: ContinuousClock.Instant)? {
        let fd = self.fd
        let milliseconds = Int32(clamping: max(0, timeout.nanoseconds / 1_000_000))
        return try await NIOThreadPool.singleton.runIfActive { () -> (text: String, at: ContinuousClock.Instant)? in
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, milliseconds) > 0 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            let now = ContinuousClock.now
            guard count > 0 else { return nil }
            return (String(decoding: buffer[0..<count], as: UTF8.self), now)
        }
    }

    /// Waits for a message with the line `line` (e.g. `READY=1`); returns the message and when
    /// it arrived.
    func waitFor(
        line matches: @Sendable (Substring) -> Bool, describedAs description: String, timeout: Duration,
        process: ChildProcess? = nil
    ) async throws -> (text: String, at: ContinuousClock.Instant) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let process, process.exitStatus() != nil {
                throw BenchError(
                    "\(process.executable) exited before \(description); its log ends:\n\(process.logTail())")
            }
            let left = deadline - ContinuousClock.now
            guard let message = try await receive(timeout: min(left, .milliseconds(200))) else { continue }
            if message.text.split(separator: "\n").contains(where: matches) { return message }
        }
        let log = process.map { "; its log ends:\n\($0.logTail())" } ?? ""
        throw BenchError("no \(description) within \(timeout)\(log)")
    }

    /// Closes the socket and removes its path (once; later calls do nothing).
    func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Glibc.close(fd)
        unlink(path)
    }
}
