#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A failure of the benchmark itself (a binary missing, a daemon that never got ready …).
public struct BenchError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// A daemon started by the benchmark with `posix_spawn`: standard input from `/dev/null`, its
/// output appended to a log file, default signal handling whatever the benchmark's own is.
struct ChildProcess: Sendable {
    let pid: pid_t
    let executable: String
    let logPath: String
    /// Taken just before `posix_spawn`.
    let spawnedAt: ContinuousClock.Instant

    /// The variables systemd hands a service; the benchmark's own values must not leak through.
    static let systemdVariables = [
        "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
        "RUNTIME_DIRECTORY", "STATE_DIRECTORY",
    ]

    static func spawn(
        _ executable: String, arguments: [String], environment extra: [String: String], logPath: String
    ) throws -> ChildProcess {
        guard access(executable, X_OK) == 0 else {
            throw BenchError("\(executable) is not an executable; build it or pass --bin-dir")
        }
        var environment = ProcessInfo.processInfo.environment
        for name in systemdVariables { environment[name] = nil }
        for (name, value) in extra { environment[name] = value }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawnedAt = ContinuousClock.now
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw BenchError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return ChildProcess(pid: pid, executable: executable, logPath: logPath, spawnedAt: spawnedAt)
    }

    /// The exit status once the process has exited, without waiting; `nil` while it runs.
    func exitStatus() -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid { return status }
        if result < 0 { return -1 } // already reaped
        return nil
    }

    /// Sends `signal` and waits (polling) up to `timeout` for the exit; SIGKILLs after that.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(15)) async -> Int32 {
        kill(pid, signal)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = exitStatus() { return status }
            try? await Task.sleep(for: .milliseconds(5))
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return status
    }

    /// The end of the log, for error messages.
    func logTail(_ lines: Int = 20) -> String {
        let text = ProcFS.read(logPath) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// A scratch directory for one run, removed afterwards.
struct Workspace: Sendable {
    let path: String

    init() throws {
        var base = NSTemporaryDirectory()
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        var template = Array((base + "/sessionhost-bench.XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard created != nil else {
            throw BenchError("cannot create a temporary directory: \(String(cString: strerror(errno)))")
        }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Writes a new random secret (32 random bytes in base64, one line), as `head -c 32
    /// /dev/urandom | base64` would; returns the secret without the newline.
    func writeSecret(_ name: String) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let secret = Data(bytes).base64EncodedString()
        try Data((secret + "\n").utf8).write(to: URL(fileURLWithPath: file(name)))
        return secret
    }

    /// The secret `name` of this workspace: written by `writeSecret` the first time, read back
    /// after (several gsmsd instances share one).
    func secret(_ name: String) throws -> String {
        if let existing = try? String(contentsOfFile: file(name), encoding: .utf8) {
            return existing.hasSuffix("\n") ? String(existing.dropLast()) : existing
        }
        return try writeSecret(name)
    }

    /// Removes the directory, unless `SESSIONHOST_BENCH_KEEP=1` asks to keep it (for its logs).
    func remove() {
        if ProcessInfo.processInfo.environment["SESSIONHOST_BENCH_KEEP"] == "1" { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}
