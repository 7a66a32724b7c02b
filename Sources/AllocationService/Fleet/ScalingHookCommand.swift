#if canImport(Glibc)
import Glibc
#endif

/// A scaling hook that runs a shell command: `/bin/sh -c COMMAND` with the request JSON on its
/// standard input, its standard output and error on gsmsd's standard error (the journal), in a
/// process group of its own that is killed (SIGKILL) when it outlives `timeout`. Exit status 0 is
/// success.
///
/// The child is waited for without blocking a thread: its status is polled, first every
/// millisecond, then every 50 ms at most (hooks run seldom and briefly).
struct ScalingHookCommand: ScalingHook {
    let command: String
    let timeout: Duration

    func send(_ body: [UInt8]) async throws {
        let pid = try spawn(stdin: body)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var pause = Duration.milliseconds(1)
        while true {
            if let status = Self.reap(pid, wait: false) {
                try Self.check(status)
                return
            }
            if clock.now >= deadline {
                Self.killGroup(pid)
                throw ScalingHookError(.timedOut, "the command did not finish within \(timeout) and was killed")
            }
            do {
                try await clock.sleep(for: pause)
            } catch {
                Self.killGroup(pid)
                throw error
            }
            pause = min(pause * 2, .milliseconds(50))
        }
    }

    /// Starts `/bin/sh -c command` with `stdin` in a pipe as its standard input.
    private func spawn(stdin body: [UInt8]) throws -> pid_t {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            throw ScalingHookError(.cannotStart, "cannot create a pipe: \(Self.errorText(errno))")
        }
        let (readEnd, writeEnd) = (ends[0], ends[1])
        defer { close(readEnd) }
        // gsmsd starts no other process, so no other child can inherit these before the flag is set.
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        // The whole request fits in the pipe's buffer (64 KiB; a request is about 1 KiB), so it is
        // written before the child starts and the child reads it to end of file.
        _ = fcntl(writeEnd, F_SETFL, O_NONBLOCK)
        var written = 0
        while written < body.count {
            let count = body.withUnsafeBytes { bytes in
                write(writeEnd, bytes.baseAddress! + written, body.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                let reason = Self.errorText(errno)
                close(writeEnd)
                throw ScalingHookError(.cannotStart, "cannot write the request to the command's input: \(reason)")
            }
            written += count
        }
        close(writeEnd)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, readEnd, 0)
        posix_spawn_file_actions_adddup2(&actions, 2, 1)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        // gsmsd ignores some signals (SIGPIPE, and those of graceful shutdown); the command gets the defaults.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let arguments: [UnsafeMutablePointer<CChar>?] =
            ["/bin/sh", "-c", command].map { (text: String) in strdup(text) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/bin/sh", &actions, &attributes, arguments, Self.environment())
        guard result == 0 else {
            throw ScalingHookError(.cannotStart, "cannot run /bin/sh: \(Self.errorText(result))")
        }
        return pid
    }

    /// This process's environment, passed on to the command.
    private static func environment() -> UnsafePointer<UnsafeMutablePointer<CChar>?>? {
        UnsafePointer(environ)
    }

    /// The wait status of `pid` once it exited; nil while it runs (`wait` false).
    private static func reap(_ pid: pid_t, wait: Bool) -> Int32? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, wait ? 0 : WNOHANG)
            if result == pid { return status }
            if result == 0 { return nil }
            if errno == EINTR { continue }
            // ECHILD: reaped elsewhere; nothing to wait for.
            return 0
        }
    }

    /// Kills the command's process group and reaps the command.
    private static func killGroup(_ pid: pid_t) {
        kill(-pid, SIGKILL)
        _ = reap(pid, wait: true)
    }

    private static func check(_ status: Int32) throws {
        let signal = status & 0x7f
        if signal == 0 {
            let code = (status >> 8) & 0xff
            guard code == 0 else { throw ScalingHookError(.commandFailed, "the command exited with status \(code)") }
        } else {
            throw ScalingHookError(.commandFailed, "the command was killed by signal \(signal)")
        }
    }

    private static func errorText(_ number: Int32) -> String {
        String(cString: strerror(number))
    }
}
