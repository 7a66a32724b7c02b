import Foundation

/// A small real filesystem (tmpfs) mounted for one test, to be filled up (`ENOSPC`) or made
/// read-only (`EROFS`) under a running daemon. Mounting needs root, as `scripts/test` runs.
final class ScratchFilesystem: @unchecked Sendable {
    let directory: TemporaryDirectory
    /// The mount point.
    let path: String
    private var mounted = false

    init(kilobytes: Int) async throws {
        guard geteuid() == 0 else {
            throw TestFailure("mounting a scratch tmpfs needs root (scripts/test runs the suite as root)")
        }
        directory = try TemporaryDirectory()
        path = directory.file("fs")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        try await run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k,mode=0755", "tmpfs", path])
        mounted = true
    }

    /// Writes a file until the filesystem is full.
    func fill() async throws {
        let result = try await ProcessRun.run("/bin/dd", ["if=/dev/zero", "of=\(path)/filler", "bs=4k"], in: directory)
        guard result.stderr.contains("No space left on device") else {
            throw TestFailure("dd did not fill \(path): \(result.stderr)")
        }
    }

    /// Removes what `fill()` wrote.
    func free() throws {
        try FileManager.default.removeItem(atPath: path + "/filler")
    }

    func remount(readOnly: Bool) async throws {
        try await run("/bin/mount", ["-o", readOnly ? "remount,ro" : "remount,rw", path])
    }

    func unmount() async throws {
        guard mounted else { return }
        try await run("/bin/umount", ["-l", path])
        mounted = false
    }

    private func run(_ executable: String, _ arguments: [String]) async throws {
        let result = try await ProcessRun.run(executable, arguments, in: directory)
        guard result.status == 0 else {
            throw TestFailure(
                "\(executable) \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
        }
    }

    deinit {
        if mounted {
            // A test that failed half-way: do not leave the mount behind.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/umount")
            process.arguments = ["-l", path]
            try? process.run()
            process.waitUntilExit()
        }
    }
}
