import CSystemd

/// The watchdog systemd expects this process to feed (`WatchdogSec=`), from `sd_watchdog_enabled(3)`.
public enum SystemdWatchdog {
    /// The watchdog timeout in microseconds, or `nil` when systemd set no watchdog for this process.
    public static func timeoutMicroseconds() -> UInt64? {
        var usec: UInt64 = 0
        let result = sd_watchdog_enabled(0, &usec)
        guard result > 0, usec > 0 else { return nil }
        return usec
    }

    /// How often to send `WATCHDOG=1`: half the timeout, as `sd_watchdog_enabled(3)` recommends.
    public static func pingInterval() -> Duration? {
        guard let usec = timeoutMicroseconds() else { return nil }
        return .microseconds(Int64(clamping: usec / 2))
    }
}
