import Foundation

/// Where `gsmsd` and `sessionhostd` are: `--bin-dir`, else the directory of this executable
/// (SwiftPM puts every product of a configuration in one directory).
struct Binaries: Sendable {
    let directory: String

    init(directory: String?) throws {
        if let directory {
            self.directory = directory
        } else {
            let executable =
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? CommandLine.arguments[0]
            self.directory = URL(fileURLWithPath: executable).deletingLastPathComponent().path
        }
        for binary in [gsmsd, sessionhostd] where !FileManager.default.isExecutableFile(atPath: binary) {
            throw BenchError(
                "\(binary) is missing: build it (swift build -c release --static-swift-stdlib) or pass --bin-dir")
        }
    }

    var gsmsd: String { directory + "/gsmsd" }
    var sessionhostd: String { directory + "/sessionhostd" }
}
