#if os(Linux)
import Foundation
import Testing

/// README.md's "## Quick tour" run as a new user pastes it, in order, in one fresh bash (issue 18).
/// How, and what stands in for what: `QuickTour`.
@Suite("README quick tour")
struct ReadmeQuickTourTests {
    /// The repository root, from this file's location (Tests/SessionHostTests/Documentation/…).
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let sessionId = "3536d3e6-e85d-4f47-b898-9617d19dabcd"

    @Test("every block of the Quick tour works pasted in order, and shows what the README promises")
    func quickTourRunsAsPasted() async throws {
        let readme = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let blocks = try QuickTour.shellBlocks(ofSection: "Quick tour", in: readme)
        let run = try await QuickTour.run(blocks)
        let diagnostics = "\n--- stdout (tail)\n\(run.stdout.tail(80))\n--- stderr (tail)\n\(run.stderr.tail(60))"

        try #require(
            run.status == 0 && run.stdout.contains(QuickTour.finishedMarker),
            "the Quick tour failed (exit status \(run.status); 124 or 137: it did not finish in time)\(diagnostics)")

        let calls = QuickTour.transcripts(in: run.stdout)
        func answers(_ method: String, _ pathPrefix: String) -> [QuickTour.Call] {
            calls.filter { $0.method == method && (URLComponents(string: $0.url)?.path ?? "").hasPrefix(pathPrefix) }
        }

        // Local mode: the game's held `GET /v1/session?wait=` answers with the handed-over session, Active.
        let waited = answers("GET", "/v1/session")
        #expect(waited.count == 1, "one GET /v1/session?wait= of the game\(diagnostics)")
        for call in waited {
            #expect(call.status == 200)
            let session = try? JSONDecoder().decode(AgentSession.self, from: Data(call.body.utf8))
            #expect(
                session?.state == "Active" && session?.sessionId == Self.sessionId, "the local session: \(call.body)")
            #expect(session?.sessionCookie == "map=dust2", "the local session's cookie: \(call.body)")
        }

        // gsmsd: the agent's calls, answered 200, end with the session Active on vm-1 ...
        let registrations = answers("PUT", "/agent/v1/hosts/vm-1")
        #expect(
            !registrations.isEmpty && registrations.allSatisfy { $0.status == 200 },
            "the registration of vm-1\(diagnostics)")
        let acks = answers("POST", "/agent/v1/hosts/vm-1/ack")
        #expect(acks.count == 1, "one acknowledgement\(diagnostics)")
        for call in acks {
            let status = try? JSONDecoder().decode(HostAnswer.self, from: Data(call.body.utf8))
            #expect(
                call.status == 200 && status?.state == "Active" && status?.sessionId == Self.sessionId,
                "the ack: \(call.body)")
        }

        // ... and the title's POST answered 200 with the session host vm-1.
        let allocations = answers("POST", "/titles/1234/sessionhosts")
        #expect(allocations.count == 1, "one allocation by the title\(diagnostics)")
        for call in allocations {
            let allocation = try? JSONDecoder().decode(HostAnswer.self, from: Data(call.body.utf8))
            #expect(call.status == 200 && allocation?.sessionHostId == "vm-1", "the title's allocation: \(call.body)")
            #expect(allocation?.sessionId == Self.sessionId, "the title's allocation: \(call.body)")
        }
    }

    @Test("the blocks are the ```sh fences of that section only, in order")
    func extraction() throws {
        let markdown = """
            # Title
            ## Before
            ```sh
            echo before
            ```
            ## Quick tour

            ```sh
            echo one
            echo two   # a comment
            ```
            Some text.
            ```swift
            print("not shell")
            ```
            ```sh
            echo three
            ```
            ### A subsection still belongs to it
            ```sh
            echo four
            ```
            ## After
            ```sh
            echo after
            ```
            """
        let blocks = try QuickTour.shellBlocks(ofSection: "Quick tour", in: markdown)
        #expect(blocks == ["echo one\necho two   # a comment", "echo three", "echo four"])
        #expect(throws: TestFailure.self) { try QuickTour.shellBlocks(ofSection: "Missing", in: markdown) }
    }

    private struct AgentSession: Decodable {
        var state: String
        var sessionId: String?
        var sessionCookie: String?
    }

    private struct HostAnswer: Decodable {
        var sessionHostId: String?
        var sessionId: String?
        var state: String?
    }
}

/// Extracts and runs README.md's "## Quick tour" the way a new user runs it (issue 18): its
/// fenced ```sh blocks, in order, pasted into one fresh bash, on a machine where the project is
/// built.
///
/// The blocks run unchanged, in ONE bash process with `set -euo pipefail` (plus history
/// expansion, which an interactive shell applies to a paste). Only these stand-ins differ from a
/// user's shell; they are bash functions defined before the README's text (`QuickTour.preamble`):
///
/// - `swift`: `swift build …` does nothing (the test suite built the binaries already) and
///   `swift build … --show-bin-path` prints the directory of the binaries built with the tests.
///   Any other use of `swift` fails, so that the README cannot start needing more.
/// - `curl`: the real curl with `-q -sS` (no `~/.curlrc`, no progress meter) and a last line
///   `[METHOD URL -> HTTP code]`; it fails (status 22) when the answer is not 2xx, so any HTTP
///   error stops the tour like a failed command. Each call's output is also kept, and printed
///   after the README's text as a transcript (in start order) that the test checks.
/// - After the README's text: the background curls (`curl … &`) are waited for, and fail the
///   tour when they failed; then everything left in the background (the daemons) is killed.
///
/// Isolation: the README uses /tmp paths and port 8080, so the tour runs under
/// `unshare --mount --net --pid --fork`: its own loopback (`ip link set lo up`), a private tmpfs
/// on /tmp (the binaries' directory is bind-mounted read-only into it at /tmp/.quick-tour/bin,
/// since a CI clone may itself live under /tmp), and its own PID namespace, so that every process
/// it started dies with it. The shell gets a minimal environment (`env -i`: PATH, HOME, LANG), as
/// a fresh login would, and `timeout` bounds the whole run. Needs root, as `scripts/test` runs.
enum QuickTour {
    /// Printed by the epilogue once the README's text and the background curls are done.
    static let finishedMarker = "=== the quick tour finished"
    static let transcriptMarker = "=== curl "
    /// The whole run may take this long (gsmsd and sessionhostd debug builds start in a second or two).
    static let deadlineSeconds = 120

    struct Call {
        var method: String
        var url: String
        var status: Int
        var body: String
    }

    /// The contents of the ```sh fences under `## <title>`, up to the next `## ` heading.
    static func shellBlocks(ofSection title: String, in markdown: String) throws -> [String] {
        var blocks: [String] = []
        var inSection = false
        var block: [String]?
        var fenced = false
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if fenced {
                if trimmed == "```" {
                    fenced = false
                    if let lines = block { blocks.append(lines.joined(separator: "\n")) }
                    block = nil
                } else if block != nil {
                    block?.append(line)
                }
                continue
            }
            if line.hasPrefix("## ") {
                inSection = line.dropFirst(3).trimmingCharacters(in: .whitespaces) == title
                continue
            }
            if trimmed.hasPrefix("```") {
                fenced = true
                block = inSection && (trimmed == "```sh" || trimmed == "```bash") ? [] : nil
            }
        }
        guard !blocks.isEmpty else { throw TestFailure("README has no ```sh blocks under '## \(title)'") }
        return blocks
    }

    /// The stand-ins, before the README's text.
    static let preamble = #"""
        set -euo pipefail
        tour=/tmp/.quick-tour
        swift() {   # stand-in: the test suite built the binaries
          case "${1:-}" in
            build) case " $* " in *" --show-bin-path "*) echo "$tour/bin" ;; esac ;;
            *) echo "quick tour stand-in: 'swift $*' is not supported" >&2; return 1 ;;
          esac
        }
        curl() {    # stand-in: the real curl; a non-2xx answer fails; every call is transcribed
          local log code
          log=$(mktemp "$tour/calls/${EPOCHREALTIME/./}.XXXXXX")
          if [ "$BASHPID" != "$$" ]; then echo "$BASHPID" >> "$tour/background-curls"; fi
          command curl -q --silent --show-error \
            --write-out '\n[%{method} %{url_effective} -> HTTP %{http_code}]\n' "$@" | tee "$log"
          code=$(sed -n 's/^\[.* -> HTTP \([0-9]*\)\]$/\1/p' "$log" | tail -n 1)
          case $code in 2??) ;; *) echo "quick tour: a curl got HTTP ${code:-?} (see its last line)" >&2; return 22 ;; esac
        }
        trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
        set -o history -o histexpand   # '!' as in the interactive shell the text is pasted into
        # ---- README.md, Quick tour ----

        """#

    /// After the README's text: the background curls must have succeeded; the transcripts.
    static let epilogue = #"""

        # ---- end of the Quick tour ----
        if [ -f "$tour/background-curls" ]; then
          for pid in $(cat "$tour/background-curls"); do
            wait "$pid" || { echo "quick tour: a background curl failed (status $?)" >&2; exit 1; }
          done
        fi
        for call in "$tour"/calls/*; do echo "=== curl ${call##*/}"; cat "$call"; done
        echo "=== the quick tour finished"

        """#

    /// Runs as root in the new namespaces: $1 the work directory, $2 the binaries, $3 the repository.
    static let wrapper = #"""
        set -euo pipefail
        export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        work=$1 bins=$2 repository=$3
        ip link set lo up
        # A private /tmp: a tmpfs prepared aside (the binaries are bound into it while their
        # directory, perhaps under the old /tmp, is still visible), then moved onto /tmp.
        mkdir "$work/tmp"
        mount -t tmpfs -o mode=1777 quick-tour "$work/tmp"
        mkdir -p "$work/tmp/.quick-tour/bin" "$work/tmp/.quick-tour/calls" "$work/tmp/.quick-tour/home"
        mount --bind "$bins" "$work/tmp/.quick-tour/bin"
        mount -o remount,bind,ro "$work/tmp/.quick-tour/bin"
        cp "$work/tour.sh" "$work/tmp/.quick-tour/tour.sh"
        cd "$repository"   # where a user types it; before /tmp is covered, in case it is under /tmp
        mount --move "$work/tmp" /tmp
        env -i PATH="$PATH" HOME=/tmp/.quick-tour/home LANG=C.UTF-8 bash /tmp/.quick-tour/tour.sh
        """#

    /// Runs `blocks` as one script in the isolated environment.
    static func run(_ blocks: [String]) async throws -> ProcessRun.Result {
        guard geteuid() == 0 else {
            throw TestFailure("the Quick tour test needs root (unshare and mount); scripts/test runs the suite as root")
        }
        let directory = try TemporaryDirectory()
        let script = preamble + blocks.joined(separator: "\n\n") + "\n" + epilogue
        try script.write(toFile: directory.file("tour.sh"), atomically: true, encoding: .utf8)
        try wrapper.write(toFile: directory.file("wrapper.sh"), atomically: true, encoding: .utf8)
        return try await ProcessRun.run(
            "/usr/bin/timeout",
            [
                "--kill-after=5", "\(deadlineSeconds)",
                "unshare", "--mount", "--net", "--pid", "--fork", "--mount-proc", "--kill-child",
                "/bin/bash", directory.file("wrapper.sh"), directory.path, Binaries.directory,
                ReadmeQuickTourTests.repositoryRoot.path,
            ],
            in: directory, timeout: .seconds(deadlineSeconds + 30))
    }

    /// The calls transcribed after the tour: `=== curl NAME`, the output, `[METHOD URL -> HTTP code]`.
    static func transcripts(in output: String) -> [Call] {
        var calls: [Call] = []
        var body: [String]?
        for line in output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix(transcriptMarker) || line == finishedMarker {
                body = line.hasPrefix(transcriptMarker) ? [] : nil
                continue
            }
            guard body != nil else { continue }
            if line.hasPrefix("["), line.hasSuffix("]"), let call = call(line.dropFirst().dropLast(), body: body ?? [])
            {
                calls.append(call)
                body = nil
            } else {
                body?.append(line)
            }
        }
        return calls
    }

    /// `METHOD URL -> HTTP code` with the body before it.
    private static func call(_ marker: Substring, body: [String]) -> Call? {
        let words = marker.split(separator: " ")
        guard words.count == 5, words[2] == "->", words[3] == "HTTP", let status = Int(words[4]) else { return nil }
        return Call(
            method: String(words[0]), url: String(words[1]), status: status,
            body: body.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

extension String {
    /// The last `count` lines.
    fileprivate func tail(_ count: Int) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).suffix(count).joined(separator: "\n")
    }
}
#endif
