import Foundation
import SessionHostModel
import Testing

/// `sessionhostctl allocate --service`, `get` and `cluster`, run as the real executable against
/// gsmsd built in this process and listening on a port (`GSMSInProcess.run(live:)`), with
/// simulated agents.
@Suite("TitleClient: sessionhostctl allocate/get/cluster against gsmsd", .serialized)
struct TitleClientCommandTests {
    static let guid = "3536d3e6-e85d-4f47-b898-9617d19dabcd"
    static let cluster = "/serviceconfigs/00000000-0000-0000-0000-000000000000/sessiontemplates/quick/session/match-7"

    static func ctl(_ arguments: [String], _ gsms: GSMSInProcess.Driver, environment: [String: String] = [:])
        async throws -> ProcessRun.Result
    {
        try await ProcessRun.run(Binaries.sessionhostctl, arguments, in: gsms.directory, environment: environment)
    }

    static func service(_ gsms: GSMSInProcess.Driver) -> [String] {
        ["--service", "http://127.0.0.1:\(gsms.port ?? 0)", "--title", "1234", "--key-file", gsms.keyFile]
    }

    @Test(
        "allocate --service prints the host; --json prints gsmsd's body; get finds it, by flag or SESSIONHOST_SERVICE")
    func allocateAndGet() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run(live: true) { gsms in
            try await gsms.register(host: "vm-2", region: "EastUS")
            let agent = gsms.acknowledgeNextHandoff(host: "vm-2")
            let human = try await Self.ctl(
                ["allocate"] + Self.service(gsms) + [
                    "--session-id", Self.guid, "--location", "East US", "--cookie", "map=dust2",
                ], gsms)
            #expect(human.status == 0, "\(human.stderr)")
            #expect(
                human.stdout == "allocated vm-2.example.net (EastUS) game 7777->30000 session \(Self.guid) host vm-2\n",
                "\(human.stdout)")
            #expect(human.stderr.isEmpty)
            #expect(try await agent.value?.sessionCookie == "map=dust2")

            // The repeat is idempotent; --json prints the service's body.
            let json = try await Self.ctl(
                ["allocate"] + Self.service(gsms) + ["--session-id", Self.guid, "--json"], gsms)
            #expect(json.status == 0, "\(json.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(object["hostName"] as? String == "vm-2.example.net")
            #expect(object["sessionHostId"] as? String == "vm-2")
            #expect(object["sessionId"] as? String == Self.guid)

            let get = try await Self.ctl(["get"] + Self.service(gsms) + ["--session-id", Self.guid], gsms)
            #expect(get.status == 0, "\(get.stderr)")
            #expect(
                get.stdout == "active vm-2.example.net (EastUS) game 7777->30000 session \(Self.guid) host vm-2\n",
                "\(get.stdout)")

            // The URL from the environment, and a ready-made token.
            let token = try await GSMSProcess.token(titles: ["1234"])
            let fromEnvironment = try await Self.ctl(
                ["get", "--title", "1234", "--token", token, "--session-id", Self.guid, "--json"], gsms,
                environment: ["SESSIONHOST_SERVICE": "http://127.0.0.1:\(gsms.port ?? 0)"])
            #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
            #expect(fromEnvironment.stdout.contains(#""sessionHostId":"vm-2""#), "\(fromEnvironment.stdout)")

            let missing = try await Self.ctl(
                ["get"] + Self.service(gsms) + ["--session-id", "11111111-2222-3333-4444-555555555555"], gsms)
            #expect(missing.status == 1)
            #expect(missing.stdout.isEmpty)
            #expect(missing.stderr.contains("SessionNotFound"), "\(missing.stderr)")
            #expect(missing.stderr.contains("fix: "), "\(missing.stderr)")
        }
    }

    @Test("cluster: Queued without --wait; --wait polls until Fulfilled once a host registers; Aborted exits 1")
    func clusterWait() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run(live: true) { gsms in
            let queued = try await Self.ctl(["cluster"] + Self.service(gsms) + ["--session-id", Self.cluster], gsms)
            #expect(queued.status == 0, "\(queued.stderr)")
            #expect(
                queued.stdout.hasPrefix("queued at position 1 session \(Self.cluster); poll again in "),
                "\(queued.stdout)")

            // Through a proxy, to see the command's first poll answered (Queued) before a host comes.
            let proxy = try await HTTPRecordingProxy(
                listen: .tcp(host: "127.0.0.1", port: 0), upstream: .tcp(host: "127.0.0.1", port: gsms.port ?? 0))
            let service = ["--service", proxy.url, "--title", "1234", "--key-file", gsms.keyFile]
            let waiting = Task {
                try await Self.ctl(["cluster"] + service + ["--session-id", Self.cluster, "--wait", "30"], gsms)
            }
            try await proxy.waitUntil("the command's first poll answered") { log in
                log.contains { $0.method == "POST" && $0.path == "/titles/1234/clusters" && $0.status == 200 }
            }
            #expect(
                proxy.exchanges.first?.answerText.contains(#""fulfillmentState":"Queued""#) == true,
                "\(proxy.exchanges)")
            try await gsms.register(host: "vm-3")
            let agent = gsms.acknowledgeNextHandoff(host: "vm-3")
            let fulfilled = try await waiting.value
            #expect(fulfilled.status == 0, "\(fulfilled.stderr)")
            #expect(
                fulfilled.stdout
                    == "fulfilled vm-3.example.net (WestUS) game 7777->30000 session \(Self.cluster) host vm-3\n",
                "\(fulfilled.stdout)")
            #expect(try await agent.value?.sessionId == Self.cluster)
            #expect(proxy.exchanges.count >= 2, "the command polled again: \(proxy.exchanges)")
            await proxy.stop()

            let json = try await Self.ctl(
                ["cluster"] + Self.service(gsms) + ["--session-id", Self.cluster, "--json"], gsms)
            #expect(json.status == 0, "\(json.stderr)")
            #expect(json.stdout.contains(#""fulfillmentState":"Fulfilled""#), "\(json.stdout)")

            let aborted = try await Self.ctl(
                ["cluster"] + Self.service(gsms) + ["--session-id", Self.cluster + "-b", "--abort-if-queued"], gsms)
            #expect(aborted.status == 1)
            #expect(aborted.stdout.hasPrefix("aborted"), "\(aborted.stdout)")
            #expect(aborted.stderr.contains("--abort-if-queued"), "\(aborted.stderr)")
        }
    }

    @Test("503 after the retries exits 1 with the code and a fix; a foreign title 1; unreachable exits 3")
    func refusedAndUnreachable() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run(live: true) { gsms in
            let busy = try await Self.ctl(["allocate"] + Self.service(gsms) + ["--session-id", Self.guid], gsms)
            #expect(busy.status == 1)
            #expect(busy.stdout.isEmpty)
            #expect(busy.stderr.contains("NoStandingByHost") && busy.stderr.contains("HTTP 503"), "\(busy.stderr)")
            #expect(busy.stderr.contains("fix: "), "\(busy.stderr)")

            let token = try await GSMSProcess.token(titles: ["5678"])
            let forbidden = try await Self.ctl(
                [
                    "get", "--service", "http://127.0.0.1:\(gsms.port ?? 0)", "--title", "1234", "--token", token,
                    "--session-id", Self.guid,
                ], gsms)
            #expect(forbidden.status == 1)
            #expect(forbidden.stderr.contains("TitleNotAllowed"), "\(forbidden.stderr)")
            #expect(
                forbidden.stderr.contains("sessionhostctl token --key-file FILE --title 1234"), "\(forbidden.stderr)")

            let unreachable = try await Self.ctl(
                [
                    "get", "--service", "http://127.0.0.1:1", "--title", "1234", "--key-file", gsms.keyFile,
                    "--session-id", Self.guid,
                ], gsms)
            #expect(unreachable.status == 3)
            #expect(unreachable.stderr.contains("Unreachable"), "\(unreachable.stderr)")
            #expect(unreachable.stderr.contains("http://127.0.0.1:1"), "\(unreachable.stderr)")
        }
    }

    @Test("bad flags exit 64 with the fix on stderr")
    func usageErrors() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run(live: true) { gsms in
            let url = "http://127.0.0.1:\(gsms.port ?? 0)"
            let missingKey = gsms.directory.file("no-such-key")
            let cases: [([String], String)] = [
                (
                    [
                        "allocate", "--socket", "/tmp/agent.sock", "--service", url, "--title", "1234", "--token", "t",
                        "--session-id", Self.guid,
                    ], "--socket"
                ),
                (
                    ["allocate", "--socket", "/tmp/agent.sock", "--location", "WestUS", "--session-id", Self.guid],
                    "--socket"
                ),
                (["allocate", "--title", "1234", "--token", "t", "--session-id", Self.guid], "--service"),
                (["allocate", "--service", url, "--token", "t", "--session-id", Self.guid], "--title"),
                (["allocate", "--service", url, "--title", "1234", "--session-id", Self.guid], "--key-file"),
                (
                    [
                        "allocate", "--service", url, "--title", "1234", "--token", "t", "--key-file", gsms.keyFile,
                        "--session-id", Self.guid,
                    ], "not both"
                ),
                (
                    [
                        "allocate", "--service", "127.0.0.1:8080", "--title", "1234", "--token", "t", "--session-id",
                        Self.guid,
                    ], "http://"
                ),
                (
                    ["get", "--service", url, "--title", "bad title", "--token", "t", "--session-id", Self.guid],
                    "--title"
                ),
                (["get", "--service", url, "--title", "1234", "--token", "t"], "--session-id"),
                (["get", "--title", "1234", "--token", "t", "--session-id", Self.guid], "SESSIONHOST_SERVICE"),
                (
                    [
                        "cluster", "--service", url, "--title", "1234", "--token", "t", "--session-id", "/x", "--wait",
                        "-1",
                    ], "--wait"
                ),
                (
                    ["cluster", "--service", url, "--title", "1234", "--key-file", missingKey, "--session-id", "/x"],
                    "KeyUnreadable"
                ),
            ]
            for (arguments, mention) in cases {
                let result = try await Self.ctl(arguments, gsms)
                #expect(result.status == 64, "\(arguments): \(result.stderr)")
                #expect(result.stdout.isEmpty, "\(arguments)")
                #expect(result.stderr.contains(mention), "\(arguments): \(result.stderr)")
            }
        }
    }
}
