import Foundation
import SessionHostSDK
import Testing

/// SIGKILL of gsmsd or of an agent at a random moment of an allocation burst, many times over,
/// with the invariants checked from outside after each: every 200 is still true, no host holds
/// two sessions, no session is on two hosts, and every agent agrees with gsmsd.
@Suite("fault injection", .serialized)
struct FaultInjectionTests {
    /// A small seeded generator, so that a failing run can be replayed (`FAULT_SEED`).
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("random SIGKILLs of gsmsd and agents under allocation load lose nothing")
    func randomKills() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["FAULT_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        let iterations = environment["FAULT_ITERATIONS"].flatMap(Int.init) ?? 20
        // Bounded in time as well: no new iteration starts after this.
        let stopStarting = ContinuousClock.now + .seconds(environment["FAULT_SECONDS"].flatMap(Int.init) ?? 90)
        var random = SplitMix64(state: seed)
        let replay = "replay with FAULT_SEED=\(seed)"
        print("fault injection: \(iterations) iterations; \(replay)")

        let gsms = try await GSMSProcess()
        let hosts = (1...3).map { "vm-\($0)" }
        var agents: [String: AgentProcess] = [:]
        for host in hosts {
            agents[host] = try await EndToEndHandoffTests.agent(gsms, hostId: host)
        }
        let auth = try await GSMSProcess.authorization(["1234"])
        var serial = 0
        var kills: [String: Int] = [:]
        var checked = 0

        for iteration in 1...iterations {
            guard ContinuousClock.now < stopStarting else { break }
            // Every game ready: all hosts StandingBy.
            for host in hosts {
                let game = AgentClient(socketPath: agents[host]!.socketPath)
                if try await game.session().sessionId != nil { _ = try await game.endSession() }
                _ = try await game.ready()
            }
            for host in hosts {
                try await EndToEndHandoffTests.waitForHost(gsms, host, state: "StandingBy", timeout: .seconds(30))
            }

            // A burst of allocations (more than there are hosts), and a SIGKILL in the middle of it.
            let ids = (0..<5).map { _ in
                serial += 1
                return String(format: "00000000-0000-4000-8000-%012d", serial)
            }
            let load = Task {
                await withTaskGroup(of: (String, HTTPTestClient.Answer?).self) { group in
                    for id in ids {
                        group.addTask {
                            (id, try? await gsms.allocate(["sessionId": id, "sessionCookie": "cookie-\(id)"]))
                        }
                    }
                    return await group.reduce(into: [(String, HTTPTestClient.Answer?)]()) { $0.append($1) }
                }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0..<120, using: &random)))
            let victim = Int.random(in: 0...hosts.count, using: &random)
            let killed = victim == hosts.count ? "gsmsd" : hosts[victim]
            if victim == hosts.count {
                try await gsms.killAndRestart(keepPort: true)
            } else {
                let agent = agents[hosts[victim]]!
                _ = try await agent.stop(signal: SIGKILL)
                try await agent.restart()
            }
            kills[victim == hosts.count ? "gsmsd" : "agent", default: 0] += 1
            let context = "iteration \(iteration), killed \(killed); \(replay)"

            var given: [String: String] = [:]
            for (id, answer) in await load.value where answer?.status == 200 {
                given[id] = answer?.json["sessionHostId"] as? String
            }
            #expect(Set(given.values).count == given.count, "a host was given two sessions: \(given); \(context)")

            // The agents converge to gsmsd: each holds exactly the session gsmsd assigns it.
            for host in hosts {
                try await Deadline.waitUntilAsync("\(host) to agree with gsmsd; \(context)", timeout: .seconds(45)) {
                    let assigned = try await gsms.hostStatus(host).json["sessionId"] as? String
                    let held = try await AgentClient(socketPath: agents[host]!.socketPath).session()
                    return assigned == held.sessionId && (held.sessionId == nil || held.state == .active)
                }
            }
            var holders: [String: String] = [:]
            for host in hosts {
                let held = try await AgentClient(socketPath: agents[host]!.socketPath).session()
                guard let sessionId = held.sessionId else { continue }
                #expect(
                    holders[sessionId] == nil,
                    "session \(sessionId) on \(holders[sessionId] ?? "") and \(host); \(context)")
                holders[sessionId] = host
                #expect(
                    held.sessionCookie == "cookie-\(sessionId)",
                    "\(host) holds \(sessionId) with the wrong cookie; \(context)")
            }
            // Every 200 is still true: gsmsd and the host's agent both hold it, Active.
            for (id, host) in given {
                let lookUp = try await gsms.client.send(.GET, "/titles/1234/sessionhosts/\(id)", headers: [auth])
                #expect(lookUp.status == 200, "\(id): \(lookUp); \(context)")
                #expect(lookUp.json["sessionHostId"] as? String == host, "\(id) moved; \(context)")
                #expect(
                    holders[id] == host,
                    "\(id) was answered 200 on \(host) but the agent there holds \(holders); \(context)")
                checked += 1
            }
        }
        print(
            "fault injection: SIGKILLs \(kills.sorted { $0.key < $1.key }), \(checked) answers of 200 checked; \(replay)"
        )
        #expect(kills.values.reduce(0, +) > 0)
        for (host, agent) in agents {
            do {
                try await agent.stop()
            } catch {
                throw TestFailure("stopping \(host): \(error); \(replay)\n\(agent.log.suffix(3000))")
            }
        }
        try await gsms.stop()
    }
}
