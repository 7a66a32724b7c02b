import Foundation
import SessionHostModel
import Testing

/// Several real `gsmsd` processes over one PostgreSQL database (a new database on the test
/// cluster for each test): hand-offs and acknowledgements cross instances, and the invariants
/// hold when an instance is SIGKILLed under load.
@Suite("gsmsd instances on one PostgreSQL", .serialized)
struct GSMSMultiInstanceTests {
    static let title = "1234"

    static func start(_ count: Int, on database: PostgresTestDatabase, arguments: [String]) async throws
        -> [GSMSProcess]
    {
        var instances: [GSMSProcess] = []
        for _ in 0..<count {
            instances.append(try await GSMSProcess(titles: [title], database: database.url, arguments: arguments))
        }
        return instances
    }

    /// Stops the instances gracefully (SIGTERM): each exits 0, its listener closed with the rest.
    static func stopAll(_ instances: [GSMSProcess]) async throws {
        for instance in instances {
            let status = try await instance.daemon.stop()
            #expect(status == 0, "gsmsd exited with \(status)\n\(instance.log.suffix(2000))")
        }
    }

    static func sessionId(_ number: Int) -> String { String(format: "00000000-0000-4000-8000-%012d", number) }

    @Test(
        "an agent's held request on one instance wakes for an allocation made on another, and its acknowledgement answers it"
    )
    func handoffAcrossInstances() async throws {
        try await PostgresTestDatabase.with { database in
            // The agents hold their requests for longer than a hand-off may take: only a wake-up
            // relayed from the other instance lets an allocation succeed.
            let instances = try await Self.start(2, on: database, arguments: ["--handoff-timeout", "20"])
            let (a, b) = (instances[0], instances[1])
            let pairs = [
                (holder: a, allocator: b, host: "vm-1"), (holder: b, allocator: a, host: "vm-2"),
                (holder: a, allocator: b, host: "vm-3"),
            ]
            for pair in pairs {
                #expect(try await pair.holder.register(host: pair.host).status == 200)
            }
            var agents: [String: Task<Handoff?, any Error>] = [:]
            for pair in pairs {
                agents[pair.host] = pair.holder.acknowledgeNextHandoff(host: pair.host, wait: 60)
            }
            for (index, pair) in pairs.enumerated() {
                // The longest-StandingBy free host is this pair's: hosts are taken in registration order.
                let id = Self.sessionId(index + 1)
                let answer = try await Deadline.within(
                    .seconds(60), "allocation \(index + 1) through the other instance"
                ) {
                    try await pair.allocator.allocate(title: Self.title, ["sessionId": id])
                }
                #expect(answer.status == 200, "\(answer)")
                let hostId = answer.json["sessionHostId"] as? String
                #expect(hostId == pair.host)
                let agent = try #require(agents[pair.host])
                let handoff: Handoff? = try await Deadline.within(.seconds(60), "the agent of \(pair.host)") {
                    try await agent.value
                }
                #expect(handoff?.sessionId == id)
                // Both instances agree.
                for instance in instances {
                    let lookUp = try await instance.client.send(
                        .GET, "/titles/\(Self.title)/sessionhosts/\(id)",
                        headers: [try await GSMSProcess.authorization([Self.title])])
                    #expect(lookUp.status == 200 && lookUp.json["sessionHostId"] as? String == hostId, "\(lookUp)")
                }
            }
            try await Self.stopAll(instances)
        }
    }

    @Test("gsmsd refuses to start when its PostgreSQL cannot be reached, and says so without the password")
    func unreachableDatabase() async throws {
        let directory = try TemporaryDirectory()
        let key = directory.file("key")
        try Data(String(repeating: "k", count: 40).utf8).write(to: URL(fileURLWithPath: key))
        let process = try AgentProcess(
            wrapping: Binaries.gsmsd,
            arguments: [
                "--listen", "127.0.0.1:0", "--database",
                "postgres://gsms:hunter2-secret@127.0.0.1:1/gsms?sslmode=disable",
                "--title", Self.title, "--token-key-file", key, "--agent-token-file", key,
            ],
            directory: directory)
        let status = try await process.waitForExit()
        #expect(status == 1)
        #expect(process.log.contains("postgres://gsms@127.0.0.1:1/gsms"), "\(process.log)")
        #expect(!process.log.contains("hunter2"), "\(process.log)")
    }

    /// The backends of the instances' LISTEN connections.
    static func listeners(_ database: PostgresTestDatabase) async throws -> [String?] {
        try await database.query(
            "SELECT pid::text FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
        )
    }

    @Test(
        "with their LISTEN connections cut, instances re-read and listen again: a hand-off across instances still wakes"
    )
    func listenConnectionLost() async throws {
        try await PostgresTestDatabase.with { database in
            let instances = try await Self.start(2, on: database, arguments: ["--handoff-timeout", "20"])
            let (a, b) = (instances[0], instances[1])
            try await Deadline.waitUntilAsync("both instances listening") {
                try await Self.listeners(database).count == 2
            }
            let before = try await Self.listeners(database)
            #expect(try await a.register(host: "vm-1").status == 200)
            let agent = a.acknowledgeNextHandoff(host: "vm-1", wait: 60)
            // Every instance loses its notifications connection; the allocation is made at once.
            let cut = try await database.query(
                "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
            )
            #expect(cut == ["true", "true"])
            let id = Self.sessionId(1)
            let answer = try await Deadline.within(.seconds(60), "the allocation through the other instance") {
                try await b.allocate(title: Self.title, ["sessionId": id])
            }
            #expect(answer.status == 200 && answer.json["sessionHostId"] as? String == "vm-1", "\(answer)")
            let handoff: Handoff? = try await Deadline.within(.seconds(60), "the agent") { try await agent.value }
            #expect(handoff?.sessionId == id)
            // Both listen again, on new connections.
            try await Deadline.waitUntilAsync("both instances listening again") {
                let now = try await Self.listeners(database)
                return now.count == 2 && Set(now).isDisjoint(with: Set(before))
            }
            try await Self.stopAll(instances)
        }
    }

    /// What the load saw.
    actor Record {
        var answered: [String: String] = [:] // session -> host of its 200
        var acknowledged: [String: String] = [:] // host -> session its agent acknowledged (200)
        var noHost = 0

        func allocated(_ sessionId: String, on hostId: String) { answered[sessionId] = hostId }
        func refused() { noHost += 1 }
        func acknowledged(_ hostId: String, _ sessionId: String) { acknowledged[hostId] = sessionId }
        var answers: Int { answered.count + noHost }
    }

    @Test(
        "three instances under load, one SIGKILLed mid-load: every 200 stays true, no host holds two sessions, no acknowledged hand-off is lost"
    )
    func killOneOfThree() async throws {
        try await PostgresTestDatabase.with { database in
            let instances = try await Self.start(
                3, on: database, arguments: ["--handoff-timeout", "3", "--host-timeout", "60"])
            let victim = 2
            let alive = { (index: Int) in index != victim }
            let record = Record()
            let hosts = (1...18).map { "vm-\($0)" }
            for (index, host) in hosts.enumerated() {
                #expect(try await instances[index % 3].register(host: host).status == 200)
            }

            // Simulated agents, each on one instance, moving to the next when theirs is gone (as
            // behind a load balancer); each acknowledges one hand-off, after a short random delay.
            let agents = hosts.enumerated().map { index, host in
                Task {
                    var current = index % 3
                    while !Task.isCancelled {
                        do {
                            guard let handoff = try await instances[current].handoff(host: host, wait: 5) else {
                                continue
                            }
                            try await Task.sleep(for: .milliseconds(Int.random(in: 0...300)))
                            let answer = try await instances[current].acknowledge(
                                host: host, sessionId: handoff.sessionId)
                            if answer.status == 200 {
                                await record.acknowledged(host, handoff.sessionId)
                                return
                            }
                        } catch {
                            current = (current + 1) % 3
                        }
                    }
                }
            }

            // Title clients, spread over the instances, retrying elsewhere on a lost connection,
            // a 5xx other than 503, or a 409 (the same session in flight).
            let auth = try await GSMSProcess.authorization([Self.title])
            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for number in 1...24 {
                        group.addTask {
                            let id = Self.sessionId(number)
                            var current = number % 3
                            let giveUp = ContinuousClock.now + .seconds(90)
                            while ContinuousClock.now < giveUp {
                                do {
                                    let answer = try await instances[current].client.send(
                                        .POST, "/titles/\(Self.title)/sessionhosts", headers: [auth],
                                        json: ["sessionId": id])
                                    if answer.status == 200, let host = answer.json["sessionHostId"] as? String {
                                        await record.allocated(id, on: host)
                                        return
                                    }
                                    if answer.status == 503 {
                                        await record.refused()
                                        return
                                    }
                                } catch {}
                                current = (current + 1) % 3
                                try? await Task.sleep(for: .milliseconds(100))
                            }
                        }
                    }
                }
            }

            // SIGKILL one instance once the load is under way.
            try await Deadline.waitUntilAsync("the first allocations", timeout: .seconds(60)) {
                await record.answered.count >= 3
            }
            _ = try await instances[victim].daemon.stop(signal: SIGKILL)
            try await Deadline.within(.seconds(120), "the allocation load") { await load.value }
            for agent in agents { agent.cancel() }

            let answered = await record.answered
            let acknowledged = await record.acknowledged
            print(
                "multi-instance kill: \(answered.count) allocated, \(await record.noHost) without a host, \(acknowledged.count) acknowledged"
            )
            #expect(await record.answers == 24)
            #expect(!answered.isEmpty)
            // No host was given two sessions (agents here never end theirs).
            #expect(Set(answered.values).count == answered.count, "a host answered for two sessions: \(answered)")
            // Every 200 is still true, as every surviving instance says.
            for (sessionId, hostId) in answered {
                for (index, instance) in instances.enumerated() where alive(index) {
                    let lookUp = try await instance.client.send(
                        .GET, "/titles/\(Self.title)/sessionhosts/\(sessionId)", headers: [auth])
                    #expect(
                        lookUp.status == 200 && lookUp.json["sessionHostId"] as? String == hostId,
                        "\(sessionId): \(lookUp)")
                }
                if let agentSession = acknowledged[hostId] {
                    #expect(
                        agentSession == sessionId,
                        "host \(hostId) acknowledged \(agentSession), answered for \(sessionId)")
                }
            }
            // Every acknowledged hand-off is Active on its host.
            for (hostId, sessionId) in acknowledged {
                let lookUp = try await instances[0].client.send(
                    .GET, "/titles/\(Self.title)/sessionhosts/\(sessionId)", headers: [auth])
                #expect(
                    lookUp.status == 200 && lookUp.json["sessionHostId"] as? String == hostId, "\(sessionId): \(lookUp)"
                )
                let status = try await instances[1].hostStatus(hostId)
                #expect(status.json["sessionId"] as? String == sessionId, "\(hostId): \(status)")
            }
            try await Self.stopAll(instances.enumerated().filter { alive($0.offset) }.map(\.element))
        }
    }
}
