import Foundation
import SessionHostModel
import Testing

/// Races and SIGKILL restarts of the real `gsmsd`.
@Suite("gsmsd concurrency and restarts", .serialized)
struct GSMSConcurrencyAndRestartTests {
    /// Agents that acknowledge every hand-off to their hosts until cancelled.
    static func runAgents(_ gsms: GSMSProcess, hosts: [String]) -> Task<Void, Never> {
        Task {
            await withTaskGroup(of: Void.self) { group in
                for host in hosts {
                    group.addTask {
                        while !Task.isCancelled {
                            let polled: Handoff??
                            do { polled = try await gsms.handoff(host: host, wait: 2) } catch { polled = nil }
                            guard let handoff = polled ?? nil else {
                                if polled == nil { try? await Task.sleep(for: .milliseconds(20)) } // gsmsd away
                                continue
                            }
                            _ = try? await gsms.acknowledge(host: host, sessionId: handoff.sessionId)
                        }
                    }
                }
            }
        }
    }

    static func guid(_ index: Int) -> String {
        String(format: "00000000-0000-4000-8000-%012d", index)
    }

    @Test("concurrent requests with one session id allocate exactly one host")
    func oneSessionIdOneHost() async throws {
        let gsms = try await GSMSProcess()
        let hosts = (0..<5).map { "host-\($0)" }
        for host in hosts { try await gsms.register(host: host) }
        let agents = Self.runAgents(gsms, hosts: hosts)
        defer { agents.cancel() }
        let answers = try await withThrowingTaskGroup(of: HTTPTestClient.Answer.self) { group in
            for _ in 0..<20 { group.addTask { try await gsms.allocate(["sessionId": Self.guid(1)]) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let statuses = answers.map(\.status)
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 409 }, "\(statuses)")
        let hostIds = Set(answers.filter { $0.status == 200 }.compactMap { $0.json["sessionHostId"] as? String })
        #expect(hostIds.count == 1, "\(answers)")
        var active = 0
        for host in hosts where try await gsms.hostStatus(host).json["state"] as? String == "Active" { active += 1 }
        #expect(active == 1)
        try await gsms.stop()
    }

    @Test("concurrent requests with distinct session ids never share a host; the rest get 503")
    func distinctSessionsDistinctHosts() async throws {
        let gsms = try await GSMSProcess()
        let hosts = (0..<8).map { "host-\($0)" }
        for host in hosts { try await gsms.register(host: host) }
        let agents = Self.runAgents(gsms, hosts: hosts)
        defer { agents.cancel() }
        let answers = try await withThrowingTaskGroup(of: HTTPTestClient.Answer.self) { group in
            for index in 0..<20 { group.addTask { try await gsms.allocate(["sessionId": Self.guid(index)]) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let allocated = answers.filter { $0.status == 200 }
        #expect(allocated.count == 8, "\(answers.map(\.status))")
        #expect(answers.filter { $0.status == 503 }.count == 12)
        #expect(Set(allocated.compactMap { $0.json["sessionHostId"] as? String }).count == 8)
        try await gsms.stop()
    }

    @Test("every 200 given before a SIGKILL is still true after the restart, and those hosts are not allocated again")
    func allocationsSurviveSIGKILL() async throws {
        let gsms = try await GSMSProcess()
        let hosts = (0..<6).map { "host-\($0)" }
        for host in hosts { try await gsms.register(host: host) }
        let agents = Self.runAgents(gsms, hosts: hosts)
        var given: [String: String] = [:]
        for index in 0..<4 {
            let answer = try await gsms.allocate(["sessionId": Self.guid(index)])
            #expect(answer.status == 200)
            given[Self.guid(index)] = answer.text
        }
        // Load in flight while the service dies.
        let load = Task {
            try await withThrowingTaskGroup(of: (String, HTTPTestClient.Answer?).self) { group in
                for index in 10..<14 {
                    group.addTask { (Self.guid(index), try? await gsms.allocate(["sessionId": Self.guid(index)])) }
                }
                return try await group.reduce(into: [(String, HTTPTestClient.Answer?)]()) { $0.append($1) }
            }
        }
        try await gsms.killAndRestart()
        agents.cancel()
        for (sessionId, answer) in try await load.value where answer?.status == 200 {
            given[sessionId] = answer?.text
        }
        let auth = try await GSMSProcess.authorization(["1234"])
        for (sessionId, body) in given {
            let lookUp = try await gsms.client.send(.GET, "/titles/1234/sessionhosts/\(sessionId)", headers: [auth])
            #expect(lookUp.status == 200, "\(sessionId): \(lookUp)")
            #expect(lookUp.text == body)
        }
        let holders = given.values.compactMap { body in
            (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["sessionHostId"] as? String
        }
        #expect(Set(holders).count == holders.count, "a host holds two sessions: \(holders)")
        for host in holders {
            #expect(try await gsms.hostStatus(host).json["sessionId"] != nil)
        }
        try await gsms.stop()
    }

    @Test(
        "gsmsd refuses to start without a title-token key, with a short key, or with an unknown config key: exit 1, the reason on stderr"
    )
    func startupRefusals() async throws {
        let directory = try TemporaryDirectory()
        func run(_ arguments: [String]) async throws -> (Int32, String) {
            let process = try AgentProcess(wrapping: Binaries.gsmsd, arguments: arguments, directory: directory)
            let status = try await process.waitForExit()
            return (status, process.log)
        }
        let secret = directory.file("agent.token")
        try Data(String(repeating: "s", count: 40).utf8).write(to: URL(fileURLWithPath: secret))
        let short = directory.file("short.key")
        try Data("too short\n".utf8).write(to: URL(fileURLWithPath: short))
        let config = directory.file("gsmsd.json")
        try Data(#"{"listen": "127.0.0.1:0", "titel": ["1234"]}"#.utf8).write(to: URL(fileURLWithPath: config))
        let database = ["--database", directory.file("db.sqlite"), "--listen", "127.0.0.1:0"]

        let (noKey, noKeyLog) = try await run(database + ["--agent-token-file", secret])
        #expect(noKey == 1, "docs/operations.md: a gsmsd that cannot start exits 1")
        #expect(noKeyLog.contains("gsmsd: error: --token-key-file is required"))
        let (shortKey, shortKeyLog) = try await run(
            database + ["--agent-token-file", secret, "--token-key-file", short])
        #expect(shortKey == 1)
        #expect(shortKeyLog.contains("32"))
        let (badConfig, badConfigLog) = try await run(["--config", config])
        #expect(badConfig == 1)
        #expect(badConfigLog.contains("unknown key 'titel'"))
        let (badListen, _) = try await run(database + ["--listen", "nowhere"])
        #expect(badListen == 1)
        let (unknownFlag, unknownFlagLog) = try await run(database + ["--no-such-flag"])
        #expect(unknownFlag == 64, "a command line that cannot be parsed is a usage error")
        #expect(unknownFlagLog.contains("--no-such-flag"))
    }
}
