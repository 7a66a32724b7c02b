import CSystemd
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Sends service state to systemd (the `sd_notify(3)` protocol), never blocking.
///
/// `sd_notify` blocks while the notify socket's queue is full, that is while the manager does
/// not read; a daemon must not stall its API or its watchdog for that. This notifier sends on a
/// non-blocking datagram socket of its own instead. What cannot be sent because the queue is
/// full is kept, one value per key (the newest `STATUS=` replaces an older one), and goes out
/// with the next message or `retryUndelivered()`. So at most one message waits, and the manager
/// learns the latest state once it reads again. A message that fails otherwise (no manager
/// listens) is dropped, as `sd_notify` would.
///
/// `NOTIFY_SOCKET` may be a path or an abstract socket (`@name`); other addresses (such as
/// `vsock:`) are handed to libsystemd's `sd_notify`, which may block. Every call is a no-op when
/// the process was not started by systemd (no `NOTIFY_SOCKET`).
public final class SystemdNotifier: Sendable {
    private let destination: Destination
    private let pending = Mutex(PendingAssignments())

    public init() {
        destination = Destination.fromEnvironment()
    }

    deinit {
        if case .socket(let socket) = destination { close(socket.descriptor) }
    }

    /// `READY=1`: startup is finished.
    public func ready(status: String? = nil) {
        send(["READY=1"] + statusLine(status))
    }

    /// `STATUS=…`: a line of text `systemctl status` shows.
    public func status(_ text: String) {
        send(statusLine(text))
    }

    /// `WATCHDOG=1`: the service is alive.
    public func watchdog() {
        send(["WATCHDOG=1"])
    }

    /// `STOPPING=1`: shutdown has begun.
    public func stopping(status: String? = nil) {
        send(["STOPPING=1"] + statusLine(status))
    }

    /// Sends the assignments (`KEY=value`), with whatever could not be sent before. Returns
    /// whether systemd was told: false without `NOTIFY_SOCKET`, on a send error, and when the
    /// manager's queue is full (the message is then kept for the next attempt).
    @discardableResult
    public func send(_ assignments: [String]) -> Bool {
        guard !assignments.isEmpty else { return false }
        switch destination {
        case .none:
            return false
        case .libsystemd:
            return sd_notify(0, assignments.joined(separator: "\n")) > 0
        case .socket(let socket):
            return pending.withLock { pending in
                pending.add(assignments)
                return pending.flush(to: socket)
            }
        }
    }

    /// Whether a message is waiting because the manager's queue was full.
    public var hasUndelivered: Bool {
        pending.withLock { !$0.isEmpty }
    }

    /// Tries again to send what could not be sent; returns whether nothing is left waiting.
    @discardableResult
    public func retryUndelivered() -> Bool {
        guard case .socket(let socket) = destination else { return true }
        return pending.withLock { pending in
            pending.isEmpty || pending.flush(to: socket)
        }
    }

    private func statusLine(_ text: String?) -> [String] {
        guard let text else { return [] }
        // One line only: a newline would start a new assignment.
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return ["STATUS=\(line)"]
    }
}

/// Where notifications go, read once from `NOTIFY_SOCKET`.
private enum Destination: Sendable {
    case none
    case libsystemd
    case socket(NotifySocket)

    static func fromEnvironment() -> Destination {
        guard let value = getenv("NOTIFY_SOCKET").map({ String(cString: $0) }), !value.isEmpty else { return .none }
        guard value.hasPrefix("/") || value.hasPrefix("@") else { return .libsystemd }
        return NotifySocket(address: value).map(Destination.socket) ?? .libsystemd
    }
}

/// A non-blocking datagram socket and the manager's address, as `sd_notify` would use them.
private struct NotifySocket: Sendable {
    let descriptor: Int32
    let address: [UInt8]

    /// `nil` when the address does not fit a `sockaddr_un` or no socket can be made.
    init?(address text: String) {
        var path = Array(text.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 } // the abstract namespace
        guard path.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else { return nil }
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let descriptor = socket(AF_UNIX, type, 0)
        guard descriptor >= 0 else { return nil }
        self.descriptor = descriptor
        self.address = path
    }

    enum Outcome {
        case sent
        /// The manager's queue is full: worth trying again.
        case queueFull
        /// No manager listens there (or another error): not worth keeping.
        case failed
    }

    /// Sends one datagram without waiting.
    func send(_ message: [UInt8]) -> Outcome {
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { $0.copyBytes(from: address) }
        // A path ends with its NUL; an abstract name is exactly its bytes.
        let pathLength = address.first == 0 ? address.count : address.count + 1
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathLength) // sun_path follows sun_family
        let sent = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                message.withUnsafeBytes { bytes in
                    sendto(
                        descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL), address,
                        length)
                }
            }
        }
        if sent == message.count { return .sent }
        return sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) ? .queueFull : .failed
    }
}

/// The assignments not yet sent, one per key, in the order their keys first came.
private struct PendingAssignments: Sendable {
    private var assignments: [(key: String, line: String)] = []

    var isEmpty: Bool { assignments.isEmpty }

    /// Adds assignments; one replaces a waiting assignment with the same key.
    mutating func add(_ lines: [String]) {
        for line in lines {
            let key = String(line.prefix { $0 != "=" })
            if let index = assignments.firstIndex(where: { $0.key == key }) {
                assignments[index].line = line
            } else {
                assignments.append((key, line))
            }
        }
    }

    /// Sends everything waiting as one message. Keeps it only when the manager's queue was
    /// full; returns whether it was sent.
    mutating func flush(to socket: NotifySocket) -> Bool {
        let message = Array(assignments.map(\.line).joined(separator: "\n").utf8)
        switch socket.send(message) {
        case .sent:
            assignments.removeAll()
            return true
        case .queueFull:
            return false
        case .failed:
            assignments.removeAll()
            return false
        }
    }
}
