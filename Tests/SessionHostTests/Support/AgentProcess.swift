import Foundation

/// A real `sessionhostd` (or another daemon, with `init(wrapping:)`) for end-to-end tests, with its
/// own socket, state directory, notify socket and log file.
final class AgentProcess: @unchecked Sendable {
    let directory: TemporaryDirectory
    let socketPath: String
    let stateDirectory: String
    let notify: NotifySocketListener
    private(set) var process: Process
    private var arguments: [String]
    private let environment: [String: String]
    private let executable: String
    let logPath: String

    /// Starts the agent and waits for `READY=1`.
    init(
        directory: TemporaryDirectory? = nil,
        arguments extra: [String] = [],
        environment: [String: String] = [:]
    ) throws {
        let directory = try directory ?? TemporaryDirectory()
        self.directory = directory
        socketPath = directory.file("agent.sock")
        stateDirectory = directory.file("state")
        logPath = directory.file("agent.log")
        notify = try NotifySocketListener(path: directory.file("notify-\(UUID().uuidString.prefix(8)).sock"))
        arguments = ["--socket", socketPath, "--state-dir", stateDirectory] + extra
        self.environment = environment
        executable = Binaries.sessionhostd
        process = Process()
        try launch(arguments: arguments, executable: executable)
    }

    /// Starts the agent and waits for `READY=1`.
    static func started(arguments: [String] = [], environment: [String: String] = [:]) async throws -> AgentProcess {
        let agent = try AgentProcess(arguments: arguments, environment: environment)
        try await agent.waitForReady()
        return agent
    }

    private func launch(arguments: [String], executable: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in [
            "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
            "RUNTIME_DIRECTORY", "STATE_DIRECTORY",
        ] {
            env[key] = nil
        }
        env["NOTIFY_SOCKET"] = notify.path
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        // The child has its own copy; this process's would stay open (and count against its
        // descriptors) for as long as the `Process` lives.
        defer { try? log.close() }
        try process.run()
        self.process = process
    }

    /// Starts `command` (e.g. `systemd-socket-activate`) instead of the agent itself.
    init(
        wrapping executable: String, arguments: [String], directory: TemporaryDirectory,
        environment: [String: String] = [:]
    ) throws {
        self.directory = directory
        socketPath = directory.file("agent.sock")
        stateDirectory = directory.file("state")
        logPath = directory.file("agent.log")
        notify = try NotifySocketListener(path: directory.file("notify-\(UUID().uuidString.prefix(8)).sock"))
        self.arguments = arguments
        self.environment = environment
        self.executable = executable
        process = Process()
        try launch(arguments: arguments, executable: executable)
    }

    /// Waits until `path` exists (a socket another process creates).
    func waitForFile(_ path: String, timeout: Duration = .seconds(30)) async throws {
        do {
            try await Deadline.waitUntil("\(path) appearing", timeout: timeout) {
                FileManager.default.fileExists(atPath: path)
            }
        } catch {
            throw TestFailure("\(error)\n\(log)")
        }
    }

    var pid: Int32 { process.processIdentifier }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func waitForReady(timeout: Duration = .seconds(60)) async throws {
        do {
            try await notify.waitFor("READY=1", timeout: timeout) { $0.split(separator: "\n").contains("READY=1") }
        } catch {
            throw TestFailure("\(error)\nagent log:\n\(log)")
        }
    }

    /// Waits for a `STATUS=` line containing `text`.
    @discardableResult
    func waitForStatus(containing text: String, timeout: Duration = .seconds(30)) async throws -> String {
        try await notify.waitFor("STATUS containing \(text)", timeout: timeout) { message in
            message.split(separator: "\n").contains { $0.hasPrefix("STATUS=") && $0.contains(text) }
        }
    }

    /// Sends `signal` and waits for the process to exit; returns its exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(30)) async throws -> Int32 {
        kill(process.processIdentifier, signal)
        return try await waitForExit(timeout: timeout)
    }

    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        do {
            try await Deadline.waitUntil("the agent's exit", timeout: timeout) { !process.isRunning }
        } catch {
            kill(process.processIdentifier, SIGKILL)
            throw TestFailure("\(error)\n\(log)")
        }
        return process.terminationStatus
    }

    /// Starts the agent again with the same arguments (after `stop`) when it is expected to
    /// refuse to start: waits for its exit and returns its status.
    func restartExpectingExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        notify.reset()
        try launch(arguments: arguments, executable: executable)
        return try await waitForExit(timeout: timeout)
    }

    /// Starts the agent again with the same arguments (after `stop`), and waits for `READY=1`.
    func restart() async throws {
        notify.reset()
        try launch(arguments: arguments, executable: executable)
        try await waitForReady()
    }

    /// Starts the process again with one flag's value replaced, and waits for `READY=1`.
    func restart(replacing flag: (String, String)) async throws {
        if let index = arguments.firstIndex(of: flag.0), index + 1 < arguments.count {
            arguments[index + 1] = flag.1
        } else {
            arguments += [flag.0, flag.1]
        }
        try await restart()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }
}
