#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Logging
import SessionHostModel

/// `--on-drained COMMAND`: run once the draining VM is idle, as `/bin/sh -c COMMAND` in a
/// process group of its own, with the agent's environment plus `SESSIONHOST_VM_ID`,
/// `SESSIONHOST_DRAIN_DEADLINE` and `SESSIONHOST_DRAIN_SOURCE`; its output goes where the
/// agent's goes (the journal). The agent never waits for it: its exit status is logged, and a
/// command still running after `timeout` is killed (its whole process group) and logged.
public struct OnDrainedCommand: Sendable {
    public let command: String
    /// The VM's id (`--vm-id`), for `SESSIONHOST_VM_ID`.
    public let vmId: String
    public let timeout: Duration
    let logger: Logger

    /// How long the command may run.
    public static let defaultTimeout: Duration = .seconds(600)
    /// How often the agent looks whether the command has exited.
    static let pollInterval: Duration = .milliseconds(100)

    public init(command: String, vmId: String, timeout: Duration = Self.defaultTimeout, logger: Logger) {
        self.command = command
        self.vmId = vmId
        self.timeout = timeout
        self.logger = logger
    }

    /// The environment the command runs with.
    func environment(notice: DrainNotice) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["SESSIONHOST_VM_ID"] = vmId
        environment["SESSIONHOST_DRAIN_DEADLINE"] = notice.deadline
        environment["SESSIONHOST_DRAIN_SOURCE"] = notice.source.rawValue
        return environment
    }

    /// Starts the command and waits (without blocking a thread) until it exits or its time is up.
    public func run(notice: DrainNotice) async {
        let metadata: Logger.Metadata = ["command": "\(command)", "deadline": "\(notice.deadline)"]
        guard let pid = spawn(environment: environment(notice: notice)) else { return }
        logger.notice("the VM is drained: --on-drained started", metadata: metadata.merging(["pid": "\(pid)"]) { $1 })
        let clock = ContinuousClock()
        let giveUp = clock.now.advanced(by: timeout)
        while true {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                logExit(status: status, metadata: metadata)
                return
            }
            if result < 0, errno != EINTR {
                logger.warning(
                    "--on-drained finished; its exit status is unknown",
                    metadata: metadata.merging(["error": "\(String(cString: strerror(errno)))"]) { $1 })
                return
            }
            if clock.now >= giveUp {
                kill(-pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                logger.error(
                    "--on-drained ran for longer than \(timeout) and was killed", metadata: metadata)
                return
            }
            // A sleep that ends early (shutdown) still lets the command be reaped on the next turn.
            do {
                try await clock.sleep(for: Self.pollInterval)
            } catch {
                logger.notice(
                    "the agent is stopping while --on-drained runs; leaving it to finish", metadata: metadata)
                return
            }
        }
    }

    private func logExit(status: Int32, metadata: Logger.Metadata) {
        let signal = status & 0x7f
        if signal == 0 {
            let code = (status >> 8) & 0xff
            if code == 0 {
                logger.notice("--on-drained exited 0", metadata: metadata)
            } else {
                logger.error(
                    "--on-drained exited \(code)", metadata: metadata.merging(["exit_status": "\(code)"]) { $1 })
            }
        } else {
            logger.error("--on-drained was killed by signal \(signal)", metadata: metadata)
        }
    }

    /// `/bin/sh -c COMMAND` in a new process group, with default signal handling; `nil` (logged)
    /// when it cannot be started.
    private func spawn(environment: [String: String]) -> pid_t? {
        let words: [String] = ["/bin/sh", "-c", command]
        let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        let variables: [UnsafeMutablePointer<CChar>?] =
            environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in arguments { free(pointer) }
            for pointer in variables { free(pointer) }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/bin/sh", nil, &attributes, arguments, variables)
        guard result == 0 else {
            logger.error(
                "cannot start --on-drained",
                metadata: ["command": "\(command)", "error": "\(String(cString: strerror(result)))"])
            return nil
        }
        return pid
    }
}
