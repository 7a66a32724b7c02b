import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// The systemd unit a process runs in, from its control group (`sd_pid_get_unit`).
public enum SystemdUnit {
    /// The unit of process `pid`, e.g. `sessionhost-game@3.service`; `nil` when it runs in no
    /// system unit (a login session, a container without systemd) or cannot be looked up.
    public static func of(pid: Int32) -> String? {
        guard pid > 0 else { return nil }
        var unit: UnsafeMutablePointer<CChar>?
        guard sd_pid_get_unit(pid, &unit) >= 0, let unit else { return nil }
        defer { free(unit) }
        return String(cString: unit)
    }

    /// The instance of a template unit's name: `3` of `sessionhost-game@3.service`; `nil` for a
    /// unit that is not an instance of a template.
    public static func instance(of unit: String) -> String? {
        guard let at = unit.firstIndex(of: "@"), let dot = unit.lastIndex(of: "."), at < dot else { return nil }
        let instance = unit[unit.index(after: at)..<dot]
        return instance.isEmpty ? nil : String(instance)
    }
}
