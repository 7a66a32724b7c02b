import Foundation

/// Runs an executable to completion with its output in files (pipes would be inherited by other
/// children started at the same moment and never reach end of file), waiting without blocking.
enum ProcessRun {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `executable` with `arguments`, in this process's environment plus `environment`.
    static func run(
        _ executable: String, _ arguments: [String], in directory: TemporaryDirectory,
        environment: [String: String] = [:], timeout: Duration = .seconds(60)
    ) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let name = UUID().uuidString.prefix(8)
        let outPath = directory.file("out-\(name)")
        let errPath = directory.file("err-\(name)")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = out
        process.standardError = err
        // The child has its own copies; this process's are closed as soon as it is started.
        defer {
            try? out.close()
            try? err.close()
        }
        try process.run()
        do {
            try await Deadline.waitUntil("\(executable) \(arguments) finishing", timeout: timeout) {
                !process.isRunning
            }
        } catch {
            process.terminate()
            throw error
        }
        return Result(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }
}
