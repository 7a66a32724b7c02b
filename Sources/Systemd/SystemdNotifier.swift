import CSystemd

/// Sends service state to systemd through `sd_notify(3)`.
///
/// Every call is a no-op when the process was not started by systemd (no `NOTIFY_SOCKET`),
/// so the daemon can call it unconditionally.
public struct SystemdNotifier: Sendable {
    public init() {}

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

    /// Sends the assignments, one per line. Returns whether systemd was told (false without
    /// `NOTIFY_SOCKET` or on a send error).
    @discardableResult
    public func send(_ assignments: [String]) -> Bool {
        guard !assignments.isEmpty else { return false }
        let message = assignments.joined(separator: "\n")
        return sd_notify(0, message) > 0
    }

    private func statusLine(_ text: String?) -> [String] {
        guard let text else { return [] }
        // One line only: a newline would start a new assignment.
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return ["STATUS=\(line)"]
    }
}
