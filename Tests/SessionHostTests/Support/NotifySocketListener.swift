import Foundation

/// A datagram socket to hand a child process as `NOTIFY_SOCKET`, to read what it tells systemd.
final class NotifySocketListener: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private var messages: [String] = []

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            let bytes = Array(path.utf8)
            buffer.copyBytes(from: bytes.prefix(buffer.count - 1))
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else { throw TestFailure("bind \(path): \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Forgets the messages received so far (before a restart).
    func reset() { messages.removeAll() }

    /// Every message received so far, in order (each may hold several `KEY=value` lines).
    var received: [String] { messages }

    /// Waits for a message for which `matches` holds, up to `timeout`; returns it.
    @discardableResult
    func waitFor(_ description: String, timeout: Duration = .seconds(30), _ matches: (String) -> Bool) async throws
        -> String
    {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        if let found = messages.first(where: matches) { return found }
        while ContinuousClock.now < deadline {
            // Never block a thread of the shared pool: look, then yield for a moment.
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 0) > 0 else {
                try await Task.sleep(for: .milliseconds(5))
                continue
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            let message = String(decoding: buffer[0..<count], as: UTF8.self)
            messages.append(message)
            if matches(message) { return message }
        }
        throw TestFailure("no notify message '\(description)' within \(timeout); received: \(messages)")
    }
}
