import Foundation
import SessionHostModel
import Testing

/// What every binary's command line owes a new user: `--version`, and help whose examples work
/// when pasted from an 80-column terminal.
@Suite("command lines: --version and pasteable help")
struct CommandLineBasicsTests {
    static var binaries: [String] {
        [Binaries.gsmsd, Binaries.sessionhostd, Binaries.sessionhostctl, Binaries.exampleGameServer]
    }

    static let controlSubcommands = [
        "host", "session", "events", "ready", "heartbeat", "end", "allocate", "get", "cluster", "token",
    ]

    @Test("every binary prints the release with --version and exits 0")
    func version() async throws {
        let directory = try TemporaryDirectory()
        for binary in Self.binaries {
            let result = try await ProcessRun.run(binary, ["--version"], in: directory)
            #expect(result.status == 0, "\(binary): \(result.stderr)")
            #expect(
                result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == SessionHostVersion.release, "\(binary)"
            )
        }
    }

    @Test("help examples are whole lines at 80 columns: every line indented, continued lines end with a backslash")
    func examplesFitEightyColumns() async throws {
        let directory = try TemporaryDirectory()
        var helps: [(String, String)] = []
        for binary in Self.binaries {
            let result = try await ProcessRun.run(binary, ["--help"], in: directory, environment: ["COLUMNS": "80"])
            helps.append((binary, result.stdout))
        }
        for subcommand in Self.controlSubcommands {
            let result = try await ProcessRun.run(
                Binaries.sessionhostctl, ["help", subcommand], in: directory, environment: ["COLUMNS": "80"])
            helps.append(("sessionhostctl \(subcommand)", result.stdout))
        }
        var examples = 0
        for (name, help) in helps {
            #expect(!help.isEmpty, "\(name) printed no help")
            for block in Self.exampleBlocks(help) {
                examples += 1
                for (index, line) in block.enumerated() {
                    #expect(line.hasPrefix("  "), "\(name): a wrapped example line: '\(line)'")
                    #expect(line.count <= 80, "\(name): '\(line)'")
                    let next = index + 1 < block.count ? block[index + 1] : nil
                    if let next, next.hasPrefix("    ") {
                        #expect(line.hasSuffix("\\"), "\(name): continued without a backslash: '\(line)'")
                    }
                }
            }
        }
        #expect(examples >= 5, "the examples were not found")
    }

    /// The lines after each `Example:` / `Examples:` up to the next blank line.
    static func exampleBlocks(_ help: String) -> [[String]] {
        var blocks: [[String]] = []
        var current: [String]?
        for line in help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasSuffix("Example:") || line.hasSuffix("Examples:") {
                current = []
            } else if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if let block = current, !block.isEmpty { blocks.append(block) }
                current = nil
            } else {
                current?.append(line)
            }
        }
        if let block = current, !block.isEmpty { blocks.append(block) }
        return blocks
    }
}
