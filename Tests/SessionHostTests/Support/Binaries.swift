import Foundation

/// The executables built with the tests, found next to the test runner.
enum Binaries {
    static let directory: String = {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }()

    static var sessionhostd: String { directory + "/sessionhostd" }
    static var sessionhostctl: String { directory + "/sessionhostctl" }
    static var gsmsd: String { directory + "/gsmsd" }
    static var exampleGameServer: String { directory + "/example-game-server" }
}
