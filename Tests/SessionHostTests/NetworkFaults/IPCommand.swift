import Foundation

/// Runs iproute2's `ip` for the fault network: namespaces, addresses, routes. Needs root.
enum IPCommand {
    /// The `ip` executable (Debian: /usr/sbin/ip, also reachable as /sbin/ip).
    static let path: String =
        ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/ip"

    /// Runs `ip arguments…`; its standard output, or an error with its standard error.
    @discardableResult
    static func run(_ arguments: [String], in directory: TemporaryDirectory) async throws -> String {
        let result = try await ProcessRun.run(path, arguments, in: directory, timeout: .seconds(20))
        guard result.status == 0 else {
            throw TestFailure("ip \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
        }
        return result.stdout
    }

    /// Runs `ip arguments…` and waits, blocking the calling thread: only for clean-up in a
    /// `deinit`, where nothing can be awaited. Failures are ignored.
    static func runBlocking(_ arguments: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            return
        }
    }
}
