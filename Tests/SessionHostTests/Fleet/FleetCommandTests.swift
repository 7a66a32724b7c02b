import Foundation
import SessionHostModel
import Testing

/// `sessionhostctl fleet …`, run as the real executable against gsmsd built in this process and
/// listening on a port, with simulated agents.
@Suite("sessionhostctl fleet against gsmsd's operator API", .serialized)
struct FleetCommandTests {
    static let session = "3536d3e6-e85d-4f47-b898-9617d19dabcd"

    static func ctl(_ arguments: [String], _ gsms: GSMSInProcess.Driver, tokenFile: String) async throws
        -> ProcessRun.Result
    {
        try await ProcessRun.run(
            Binaries.sessionhostctl, ["fleet"] + arguments, in: gsms.directory,
            environment: [
                "SESSIONHOST_SERVICE": "http://127.0.0.1:\(gsms.port ?? 0)",
                "SESSIONHOST_OPERATOR_TOKEN_FILE": tokenFile,
            ])
    }

    @Test("hosts, sessions, drain, shutdown and buffers print tables or gsmsd's JSON; refusals say what to fix")
    func fleetCommands() async throws {
        let (gsms, secrets) = try OperatorAPITests.gsmsd()
        let tokenFile = secrets.file("operator.token")
        try await gsms.run(live: true) { gsms in
            try await gsms.register(host: "vm-a-1", extra: ["vmId": "vm-a"])
            try await gsms.register(host: "vm-b-1", region: "EastUS", extra: ["vmId": "vm-b"])
            let acknowledged = gsms.acknowledgeNextHandoff(host: "vm-a-1")
            // Allocated by another process: the live test client holds the hand-off poll.
            let allocated = try await ProcessRun.run(
                Binaries.sessionhostctl,
                ["allocate"] + TitleClientCommandTests.service(gsms) + [
                    "--session-id", Self.session, "--location", "WestUS",
                ],
                in: gsms.directory)
            #expect(allocated.status == 0, "\(allocated.stderr)")
            _ = try await acknowledged.value

            let hosts = try await Self.ctl(["hosts", "--region", "westus"], gsms, tokenFile: tokenFile)
            #expect(hosts.status == 0, "\(hosts.stderr)")
            let lines = hosts.stdout.split(separator: "\n")
            #expect(lines.first?.hasPrefix("HOST") == true)
            #expect(lines.count == 2, "\(hosts.stdout)")
            #expect(lines.last?.contains("vm-a-1") == true && lines.last?.contains(Self.session) == true)

            let json = try await Self.ctl(["hosts", "--json", "--limit", "1"], gsms, tokenFile: tokenFile)
            let page = try JSONDecoder().decode(OperatorHostPage.self, from: Data(json.stdout.utf8))
            #expect(page.hosts.map(\.sessionHostId) == ["vm-a-1"])
            #expect(page.next == "vm-a-1")
            let all = try await Self.ctl(["hosts", "--all", "--limit", "1"], gsms, tokenFile: tokenFile)
            #expect(all.stdout.split(separator: "\n").count == 3, "\(all.stdout)")
            let allJSON = try await Self.ctl(["hosts", "--all", "--json", "--limit", "1"], gsms, tokenFile: tokenFile)
            let pages = try allJSON.stdout.split(separator: "\n").map {
                try JSONDecoder().decode(OperatorHostPage.self, from: Data($0.utf8))
            }
            #expect(pages.flatMap(\.hosts).map(\.sessionHostId) == ["vm-a-1", "vm-b-1"])

            let players = try await ProcessRun.run(
                Binaries.sessionhostctl,
                ["get", "--players"] + TitleClientCommandTests.service(gsms) + ["--session-id", Self.session],
                in: gsms.directory)
            #expect(players.status == 0, "\(players.stderr)")
            #expect(players.stdout == "0 players on host vm-a-1\n", "\(players.stdout)")

            let sessions = try await Self.ctl(["sessions", "--title", "1234"], gsms, tokenFile: tokenFile)
            #expect(sessions.status == 0, "\(sessions.stderr)")
            #expect(sessions.stdout.contains(Self.session) && sessions.stdout.contains("vm-a"))

            let drain = try await Self.ctl(
                ["drain", "--vm", "vm-b", "--deadline", "60", "--reason", "kernel update"], gsms, tokenFile: tokenFile)
            #expect(drain.status == 0, "\(drain.stderr)")
            #expect(drain.stdout.hasPrefix("draining 1 host until "), "\(drain.stdout)")
            let draining = try await Self.ctl(["hosts", "--draining"], gsms, tokenFile: tokenFile)
            #expect(draining.stdout.contains("vm-b-1") && !draining.stdout.contains("vm-a-1"), "\(draining.stdout)")

            let shutdown = try await Self.ctl(
                ["shutdown", "--title", "1234", "--session-id", Self.session], gsms, tokenFile: tokenFile)
            #expect(shutdown.status == 0, "\(shutdown.stderr)")
            #expect(shutdown.stdout == "shut down session \(Self.session) on host vm-a-1\n")
            let again = try await Self.ctl(
                ["shutdown", "--title", "1234", "--session-id", Self.session], gsms, tokenFile: tokenFile)
            #expect(again.status == 1)
            #expect(again.stderr.contains("SessionNotFound") && again.stderr.contains("fix: "), "\(again.stderr)")

            let buffers = try await Self.ctl(["buffers", "--json"], gsms, tokenFile: tokenFile)
            #expect(buffers.status == 0, "\(buffers.stderr)")
            #expect(try JSONDecoder().decode(StandbyBufferReport.self, from: Data(buffers.stdout.utf8)).buffers.isEmpty)

            // The wrong secret: refused (exit 1) with the fix; no secret at all: a usage error (64).
            let wrongFile = secrets.file("wrong.token")
            try Data("not-the-operator-secret-0123456789abcdef\n".utf8).write(to: URL(fileURLWithPath: wrongFile))
            let wrong = try await Self.ctl(["hosts"], gsms, tokenFile: wrongFile)
            #expect(wrong.status == 1)
            #expect(wrong.stderr.contains("InvalidOperatorToken") && wrong.stderr.contains("--operator-token-file"))
            let none = try await ProcessRun.run(
                Binaries.sessionhostctl, ["fleet", "hosts", "--service", "http://127.0.0.1:\(gsms.port ?? 0)"],
                in: gsms.directory, environment: ["SESSIONHOST_OPERATOR_TOKEN_FILE": ""])
            #expect(none.status == 64)
            #expect(none.stderr.contains("--operator-token-file"))
            let nothing = try await Self.ctl(["drain"], gsms, tokenFile: tokenFile)
            #expect(nothing.status == 64)
        }
    }
}
