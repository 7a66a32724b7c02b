#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// What Linux tells about a process in `/proc`.
enum ProcFS {
    /// The whole of a (pseudo-)file; `/proc` files report size 0, so read until the end.
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static var onlineCPUs: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    static var ticksPerSecond: Int { max(1, Int(sysconf(Int32(_SC_CLK_TCK)))) }

    /// A `kB` value of `/proc/PID/status`, e.g. `VmRSS`.
    static func statusKiB(pid: pid_t, _ key: String) -> Int? {
        guard let status = read("/proc/\(pid)/status") else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(key + ":") {
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }

    /// utime + stime of the whole process, in clock ticks (`/proc/PID/stat` fields 14 and 15).
    static func cpuTicks(pid: pid_t) -> Int? {
        guard let stat = read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm)": field 3 (state) is at index 0, so utime (14) is at 11 and stime (15) at 12.
        let fields = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    /// Nanoseconds the whole process (every thread, also those that have exited) spent on a CPU,
    /// from its CPU-time clock (`clock_getcpuclockid`): finer than the ticks of `/proc/PID/stat`.
    static func cpuNanoseconds(pid: pid_t) -> Int64? {
        var clock = clockid_t()
        guard clock_getcpuclockid(pid, &clock) == 0 else { return nil }
        var time = timespec()
        guard clock_gettime(clock, &time) == 0 else { return nil }
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// CPU time of every process whose command name is `command`, e.g. the processes of a
    /// PostgreSQL server on this machine (a process that exits between two readings takes its
    /// time with it: compare readings with care).
    static func cpuNanoseconds(command: String) -> Int64 {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return 0 }
        var total: Int64 = 0
        for entry in entries {
            guard let pid = pid_t(entry),
                read("/proc/\(pid)/comm")?.trimmingCharacters(in: .whitespacesAndNewlines) == command
            else { continue }
            total += cpuNanoseconds(pid: pid) ?? 0
        }
        return total
    }

    /// Resident memory by mapping, from `/proc/PID/smaps`.
    static func memory(pid: pid_t) -> MemoryReport {
        let rss = statusKiB(pid: pid, "VmRSS") ?? 0
        let hwm = statusKiB(pid: pid, "VmHWM") ?? 0
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? ""
        var byName: [String: MappingUsage] = [:]
        var current = "[anonymous]"
        for line in (read("/proc/\(pid)/smaps") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if !first.hasSuffix(":") {
                // A mapping: "start-end perms offset dev inode [path]".
                current = fields.count >= 6 ? fields[5...].joined(separator: " ") : "[anonymous]"
                continue
            }
            guard fields.count >= 2, let kib = Int(fields[1]) else { continue }
            switch first {
            case "Rss:":
                byName[current, default: MappingUsage(name: current, rssKib: 0, privateKib: 0)].rssKib += kib
            case "Private_Clean:", "Private_Dirty:":
                byName[current, default: MappingUsage(name: current, rssKib: 0, privateKib: 0)].privateKib += kib
            default:
                break
            }
        }
        var byKind: [String: MappingUsage] = [:]
        for usage in byName.values {
            let kind = Self.kind(of: usage.name, executable: executable)
            byKind[kind, default: MappingUsage(name: kind, rssKib: 0, privateKib: 0)].rssKib += usage.rssKib
            byKind[kind, default: MappingUsage(name: kind, rssKib: 0, privateKib: 0)].privateKib += usage.privateKib
        }
        let order: (MappingUsage, MappingUsage) -> Bool = {
            $0.rssKib != $1.rssKib ? $0.rssKib > $1.rssKib : $0.name < $1.name
        }
        return MemoryReport(
            vmRssMib: Report.rounded(Double(rss) / 1024), vmHwmMib: Report.rounded(Double(hwm) / 1024),
            rssAnonMib: Report.rounded(Double(statusKiB(pid: pid, "RssAnon") ?? 0) / 1024),
            rssFileMib: Report.rounded(Double(statusKiB(pid: pid, "RssFile") ?? 0) / 1024),
            rssKibByKind: byKind.values.sorted(by: order),
            largestMappings: Array(byName.values.filter { $0.rssKib > 0 }.sorted(by: order).prefix(12)))
    }

    static func kind(of name: String, executable: String) -> String {
        if name == executable { return "executable" }
        if name == "[heap]" || name == "[anonymous]" { return "heap and anonymous (incl. thread stacks)" }
        if name == "[stack]" { return "main stack" }
        if name.hasPrefix("/") {
            let file = name.split(separator: "/").last.map(String.init) ?? name
            let swift = ["libswift", "libFoundation", "lib_Foundation", "libdispatch", "libBlocksRuntime", "libicu"]
            return swift.contains(where: file.hasPrefix) ? "Swift runtime, Foundation, ICU" : "other shared libraries"
        }
        return "other (\(name))"
    }
}
