import Foundation
import SessionHostModel
import Synchronization
import Testing

@testable import AllocationService

/// One channel per agent for all of its hosts (docs/control-plane-api.md): `POST /agent/v1/sync`
/// registers and heartbeats several hosts in one request, `POST /agent/v1/handoffs` is one held
/// poll for all of them. Against gsmsd built in this process (`GSMSInProcess`).
@Suite("gsmsd agent channel: sync and one poll for several hosts", .serialized)
struct GSMSAgentSyncTests {
    static let session = "3536d3e6-e85d-4f47-b898-9617d19dabcd"
    /// The agent of the tests: one key for all of its slots.
    static let agent = GSMSProcess.simulatedAgentHeaders("agent-one")
    static let otherAgent = GSMSProcess.simulatedAgentHeaders("agent-two")

    static func registration(
        _ host: String, title: String = "1234", state: String = "StandingBy", internalPort: Int = 7777
    ) -> [String: Any] {
        [
            "sessionHostId": host,
            "registration": [
                "titleId": title, "region": "WestUS", "hostName": "\(host).example.net",
                "portMappings": [["Key": "game", "Value": ["internal": internalPort, "external": 30000]]],
                "secureContext": "", "state": state, "health": "Healthy",
            ] as [String: Any],
        ]
    }

    static func heartbeat(_ host: String, state: String = "StandingBy") -> [String: Any] {
        ["sessionHostId": host, "heartbeat": ["state": state, "health": "Healthy"]]
    }

    static func sync(
        _ gsms: GSMSInProcess.Driver, _ hosts: [[String: Any]], headers: [(String, String)] = agent
    ) async throws -> HTTPTestClient.Answer {
        try await gsms.client.send(.POST, "/agent/v1/sync", headers: headers, json: ["hosts": hosts])
    }

    static func poll(
        _ gsms: GSMSInProcess.Driver, _ hosts: [String], wait: Double, headers: [(String, String)] = agent
    ) async throws -> HTTPTestClient.Answer {
        try await gsms.client.send(
            .POST, "/agent/v1/handoffs", headers: headers, json: ["sessionHostIds": hosts, "wait": wait])
    }

    /// The value of an unlabelled gauge in gsmsd's `/metrics`.
    static func gauge(_ gsms: GSMSInProcess.Driver, _ name: String) async throws -> Double? {
        let answer = try await gsms.client.send(.GET, "/metrics")
        let line = answer.text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.dropFirst(name.count + 1)) }
    }

    @Test("one sync registers three hosts, and the next heartbeats them, answered in request order")
    func registerAndHeartbeatThree() async throws {
        try await GSMSInProcess().run { gsms in
            let hosts = ["slot-1", "slot-2", "slot-3"]
            let registered = try await Self.sync(
                gsms,
                [
                    Self.registration("slot-1"), Self.registration("slot-2", state: "Initializing"),
                    Self.registration("slot-3"),
                ])
            #expect(registered.status == 200, "\(registered)")
            let answer = try registered.decode(HostSyncAnswer.self)
            #expect(answer.hosts.map(\.sessionHostId) == hosts)
            #expect(answer.hosts.map(\.status?.state) == [.standingBy, .initializing, .standingBy])
            #expect(answer.hosts.allSatisfy { $0.error == nil && ($0.status?.heartbeatIntervalMilliseconds ?? 0) > 0 })
            // Each host is registered and bound to the agent's key, as by PUT.
            for host in hosts {
                let status = try await gsms.client.send(.GET, "/agent/v1/hosts/\(host)", headers: Self.agent)
                #expect(status.status == 200, "\(host): \(status)")
            }
            #expect(try await gsms.hostStatus("slot-1").status == 403, "another key is refused for a synced host")

            let beats = try await Self.sync(
                gsms, [Self.heartbeat("slot-3"), Self.heartbeat("slot-2"), Self.heartbeat("slot-1")])
            #expect(beats.status == 200, "\(beats)")
            let beaten = try beats.decode(HostSyncAnswer.self)
            #expect(beaten.hosts.map(\.sessionHostId) == ["slot-3", "slot-2", "slot-1"])
            #expect(beaten.hosts.allSatisfy { $0.status?.state == .standingBy && $0.error == nil })
            let metrics = try await gsms.client.send(.GET, "/metrics").text
            #expect(metrics.contains(#"gsms_agent_heartbeats_total{title_id="1234"} 3"#), "\(metrics)")
            // A host registered by sync is allocated like any other.
            let agent = Task {
                let poll = try await Self.poll(gsms, hosts, wait: 20)
                let handoff = try #require(try poll.decode(HandoffsPoll.self).handoffs.first)
                let ack = try await gsms.client.send(
                    .POST, "/agent/v1/hosts/\(handoff.sessionHostId)/ack", headers: Self.agent,
                    json: ["sessionId": handoff.sessionId])
                #expect(ack.status == 200, "\(ack)")
            }
            #expect(try await gsms.allocate(["sessionId": Self.session]).status == 200)
            try await agent.value
        }
    }

    @Test("a host's refusal is its own: unknown 404, another agent's key 403, bad registrations 400 and 404")
    func perHostErrors() async throws {
        try await GSMSInProcess().run { gsms in
            // slot-2 belongs to another agent.
            let taken = try await Self.sync(gsms, [Self.registration("slot-2")], headers: Self.otherAgent)
            #expect(taken.status == 200, "\(taken)")
            #expect(try await Self.sync(gsms, [Self.registration("slot-1")]).status == 200)

            let answer = try await Self.sync(
                gsms,
                [
                    Self.heartbeat("slot-1"), Self.heartbeat("ghost"), Self.heartbeat("slot-2"),
                    Self.registration("slot-4", title: "9999"), Self.registration("slot-5", internalPort: 0),
                    Self.registration("slot-3"),
                ])
            #expect(answer.status == 200, "\(answer)")
            let results = try answer.decode(HostSyncAnswer.self).hosts
            #expect(results.map(\.sessionHostId) == ["slot-1", "ghost", "slot-2", "slot-4", "slot-5", "slot-3"])
            #expect(results[0].status?.state == .standingBy && results[0].error == nil)
            #expect(results[1].error?.status == 404 && results[1].error?.code == "UnknownHost", "\(results[1])")
            #expect(results[2].error?.status == 403 && results[2].error?.code == "HostKeyMismatch", "\(results[2])")
            #expect(results[3].error?.status == 404 && results[3].error?.code == "TitleNotSubscribed", "\(results[3])")
            #expect(results[4].error?.status == 400 && results[4].error?.code == "InvalidRegistration", "\(results[4])")
            #expect(results[5].status?.state == .standingBy && results[5].error == nil)
            #expect(results[1...4].allSatisfy { $0.status == nil })
            // The other agent's host is untouched, and the refusals are logged like per-host ones.
            let other = try await gsms.client.send(.GET, "/agent/v1/hosts/slot-2", headers: Self.otherAgent)
            #expect(other.status == 200)
            #expect(gsms.log.contains("agent refused"), "\(gsms.log)")
            #expect(gsms.log.contains("session_host_id=slot-2"), "\(gsms.log)")
        }
    }

    @Test("malformed requests are refused whole with 400 and a stable code; keys and the fleet secret whole too")
    func wholeRequestErrors() async throws {
        try await GSMSInProcess().run { gsms in
            let tooMany = (0...HostSyncRequest.maximumHosts).map { Self.heartbeat("slot-\($0)") }
            let both: [String: Any] = [
                "sessionHostId": "slot-1", "heartbeat": ["state": "StandingBy", "health": "Healthy"],
                "registration": Self.registration("slot-1")["registration"]!,
            ]
            let cases: [(String, [[String: Any]], String)] = [
                ("no host", [], "InvalidHostCount"),
                ("65 hosts", tooMany, "InvalidHostCount"),
                ("a host twice", [Self.heartbeat("slot-1"), Self.heartbeat("slot-1")], "DuplicateHostId"),
                ("both members", [both], "InvalidHostReport"),
                ("neither member", [["sessionHostId": "slot-1"]], "InvalidHostReport"),
                ("a bad host id", [Self.heartbeat("a/b")], "InvalidHostId"),
            ]
            for (name, hosts, code) in cases {
                let answer = try await Self.sync(gsms, hosts)
                #expect(answer.status == 400, "\(name): \(answer)")
                #expect(answer.json["code"] as? String == code, "\(name): \(answer)")
            }
            let malformed = try await gsms.client.send(
                .POST, "/agent/v1/sync", headers: Self.agent, body: Array(#"{"hosts": 3}"#.utf8))
            #expect(malformed.status == 400)
            #expect(malformed.json["code"] as? String == "MalformedBody")
            // Nothing of a refused request happened.
            #expect(try await gsms.hostStatus("slot-1").status == 404)

            let noKey = try await Self.sync(gsms, [Self.registration("slot-1")], headers: [GSMSProcess.fleetHeader])
            #expect(noKey.status == 401)
            #expect(noKey.json["code"] as? String == "MissingHostKey")
            let noSecret = try await Self.sync(
                gsms, [Self.registration("slot-1")], headers: [("SessionHost-Key", GSMSProcess.hostKey("agent-one"))])
            #expect(noSecret.status == 401)
            #expect(noSecret.json["code"] as? String == "MissingAgentToken")
            #expect(try await gsms.client.send(.GET, "/agent/v1/sync", headers: Self.agent).status == 405)

            // The poll's list follows the same rules, and its wait those of the per-host poll.
            let pollCases: [(String, [String: Any], String)] = [
                ("no host", ["sessionHostIds": [String]()], "InvalidHostCount"),
                ("65 hosts", ["sessionHostIds": (0...64).map { "slot-\($0)" }], "InvalidHostCount"),
                ("a host twice", ["sessionHostIds": ["slot-1", "slot-1"]], "DuplicateHostId"),
                ("a bad host id", ["sessionHostIds": [""]], "InvalidHostId"),
                ("a wait too long", ["sessionHostIds": ["slot-1"], "wait": 301], "InvalidWait"),
                ("a negative wait", ["sessionHostIds": ["slot-1"], "wait": -1], "InvalidWait"),
                ("no list", ["wait": 1], "MalformedBody"),
            ]
            for (name, body, code) in pollCases {
                let answer = try await gsms.client.send(.POST, "/agent/v1/handoffs", headers: Self.agent, json: body)
                #expect(answer.status == 400, "\(name): \(answer)")
                #expect(answer.json["code"] as? String == code, "\(name): \(answer)")
            }
        }
    }

    @Test("one held poll for three hosts is answered with the hand-off of the host allocated; its ack confirms it")
    func heldPollForThreeHosts() async throws {
        try await GSMSInProcess().run { gsms in
            let hosts = ["slot-1", "slot-2", "slot-3"]
            #expect(try await Self.sync(gsms, hosts.map { Self.registration($0) }).status == 200)
            let poll = Task { try await Self.poll(gsms, hosts, wait: 60) }
            try await Deadline.waitUntilAsync("the poll to be held for the three hosts") {
                try await Self.gauge(gsms, "gsms_handoff_channels_up") == 3
            }
            let allocation = Task { try await gsms.allocate(["sessionId": Self.session]) }
            let answer = try await Deadline.within(.seconds(30), "the poll's answer") { try await poll.value }
            #expect(answer.status == 200, "\(answer)")
            let handoffs = try answer.decode(HandoffsPoll.self).handoffs
            #expect(handoffs.count == 1, "\(answer)")
            let handoff = try #require(handoffs.first)
            #expect(hosts.contains(handoff.sessionHostId))
            #expect(handoff.sessionId == Self.session)
            #expect(handoff.titleId == "1234")

            let ack = try await gsms.client.send(
                .POST, "/agent/v1/hosts/\(handoff.sessionHostId)/ack", headers: Self.agent,
                json: ["sessionId": handoff.sessionId])
            #expect(ack.status == 200, "\(ack)")
            #expect(ack.json["state"] as? String == "Active")
            let allocated = try await allocation.value
            #expect(allocated.status == 200, "\(allocated)")
            #expect(allocated.json["sessionHostId"] as? String == handoff.sessionHostId)
            // The poll ended for all three hosts. (Which of them are down is checked on
            // `HandoffChannels` below: the router's test channel is never active, so a poll here
            // always ends as if its connection closed.)
            #expect(try await Self.gauge(gsms, "gsms_handoff_channels_up") == 0)
        }
    }

    @Test("a pending hand-off answers at once, but not when the agent says it received it already")
    func pendingAndReceived() async throws {
        try await GSMSInProcess().run { gsms in
            #expect(
                try await Self.sync(gsms, [Self.registration("slot-1"), Self.registration("slot-2")]).status == 200)
            let allocation = Task { try await gsms.allocate(["sessionId": Self.session]) }
            let first = try await Self.poll(gsms, ["slot-1", "slot-2"], wait: 30)
            let handoff = try #require(try first.decode(HandoffsPoll.self).handoffs.first, "\(first)")
            let again = try await Self.poll(gsms, ["slot-1", "slot-2"], wait: 0)
            #expect(try again.decode(HandoffsPoll.self).handoffs == [handoff], "a pending hand-off is answered at once")
            let received = try await gsms.client.send(
                .POST, "/agent/v1/handoffs", headers: Self.agent,
                json: ["sessionHostIds": ["slot-1", "slot-2"], "wait": 0, "receivedSessionIds": [Self.session]])
            #expect(try received.decode(HandoffsPoll.self).handoffs.isEmpty, "\(received)")
            let ack = try await gsms.client.send(
                .POST, "/agent/v1/hosts/\(handoff.sessionHostId)/ack", headers: Self.agent,
                json: ["sessionId": handoff.sessionId])
            #expect(ack.status == 200, "\(ack)")
            #expect(try await allocation.value.status == 200)
        }
    }

    @Test("a host not registered yet is watched: its registration and a claim wake the poll")
    func unknownHostIsWatched() async throws {
        try await GSMSInProcess().run { gsms in
            let poll = Task { try await Self.poll(gsms, ["slot-1"], wait: 60) }
            // Registering is no hand-off: the poll stays held until the host is claimed.
            #expect(try await Self.sync(gsms, [Self.registration("slot-1")]).status == 200)
            let allocation = Task { try await gsms.allocate(["sessionId": Self.session]) }
            let answer = try await Deadline.within(.seconds(30), "the poll's answer") { try await poll.value }
            let handoff = try #require(try answer.decode(HandoffsPoll.self).handoffs.first, "\(answer)")
            #expect(handoff.sessionHostId == "slot-1")
            let ack = try await gsms.client.send(
                .POST, "/agent/v1/hosts/slot-1/ack", headers: Self.agent, json: ["sessionId": handoff.sessionId])
            #expect(ack.status == 200, "\(ack)")
            #expect(try await allocation.value.status == 200)
        }
    }

    @Test("another agent's host is never watched nor handed over; a poll only for such hosts is 403")
    func anotherAgentsHost() async throws {
        try await GSMSInProcess().run { gsms in
            #expect(try await Self.sync(gsms, [Self.registration("theirs")], headers: Self.otherAgent).status == 200)
            let allocation = Task { try await gsms.allocate(["sessionId": Self.session]) }
            // Its own agent sees the hand-off...
            let own = try await Self.poll(gsms, ["theirs"], wait: 30, headers: Self.otherAgent)
            #expect(try own.decode(HandoffsPoll.self).handoffs.map(\.sessionHostId) == ["theirs"], "\(own)")
            // ...this agent does not, with or without a host of its own in the list.
            let mixed = try await Self.poll(gsms, ["mine", "theirs"], wait: 0)
            #expect(mixed.status == 200, "\(mixed)")
            #expect(try mixed.decode(HandoffsPoll.self).handoffs.isEmpty, "\(mixed)")
            let only = try await Self.poll(gsms, ["theirs"], wait: 0)
            #expect(only.status == 403, "\(only)")
            #expect(only.json["code"] as? String == "HostKeyMismatch")
            let ack = try await gsms.client.send(
                .POST, "/agent/v1/hosts/theirs/ack", headers: Self.otherAgent, json: ["sessionId": Self.session])
            #expect(ack.status == 200, "\(ack)")
            #expect(try await allocation.value.status == 200)
        }
    }

    @Test("a poll whose wait ends is answered empty, at the end of its wait on gsmsd's clock, not before")
    func waitEndsEmpty() async throws {
        let clock = ManualClock()
        let gsms = try GSMSInProcess(clock: clock) { $0.hostTimeout = .seconds(3600) }
        try await gsms.run { gsms in
            let hosts = ["slot-1", "slot-2", "slot-3"]
            #expect(try await Self.sync(gsms, hosts.map { Self.registration($0) }).status == 200)
            let look = try await Self.poll(gsms, hosts, wait: 0)
            #expect(try look.decode(HandoffsPoll.self).handoffs.isEmpty)
            let poll = Task { try await Self.poll(gsms, hosts, wait: 30) }
            // Two sleepers: the sweeper, and the poll's deadline.
            try await clock.waitForSleepers(2)
            #expect(try await Self.gauge(gsms, "gsms_handoff_channels_up") == 3)
            clock.advance(by: .seconds(29))
            #expect(try await Self.gauge(gsms, "gsms_handoff_channels_up") == 3, "not answered before its wait")
            clock.advance(by: .seconds(1))
            let answer = try await Deadline.within(.seconds(30), "the poll's empty answer") { try await poll.value }
            #expect(answer.status == 200, "\(answer)")
            #expect(try answer.decode(HandoffsPoll.self).handoffs.isEmpty)
            #expect(try await Self.gauge(gsms, "gsms_handoff_channels_up") == 0)
        }
    }

    @Test("when the poll's connection closes, every host it was held for is down")
    func connectionClosed() async throws {
        try await GSMSInProcess().run(live: true) { gsms in
            let hosts = ["slot-1", "slot-2", "slot-3"]
            #expect(try await Self.sync(gsms, hosts.map { Self.registration($0) }).status == 200)
            let port = try #require(gsms.port)
            let body = Array(#"{"sessionHostIds": ["slot-1", "slot-2", "slot-3"], "wait": 120}"#.utf8)
            var head = "POST /agent/v1/handoffs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            for (name, value) in Self.agent { head += "\(name): \(value)\r\n" }
            head += "Content-Length: \(body.count)\r\n\r\n"
            let connection = try TCPConnection(port: port)
            try connection.send(Array(head.utf8) + body)
            try await Deadline.waitUntilAsync("the poll to be held for the three hosts") {
                try await Self.gauge(gsms, "gsms_handoff_channels_up") == 3
            }
            connection.close()
            try await Deadline.waitUntilAsync("gsmsd to see the channel of the three hosts die") {
                try await Self.gauge(gsms, "gsms_handoff_channels_down") == 3
            }
            #expect(try await Self.gauge(gsms, "gsms_handoff_channels_up") == 0)
        }
    }

    // MARK: The parts

    @Test("HandoffChannels counts a poll of several hosts for each of them")
    func channelsOfSeveralHosts() {
        let channels = HandoffChannels(repollGrace: .zero)
        channels.pollStarted(hostIds: ["a", "b", "c"])
        #expect(channels.hostsPolling() == 3)
        channels.pollEnded([("a", .handedOff), ("b", .looked), ("c", .looked)])
        #expect(channels.hostsPolling() == 0)
        #expect(channels.unreachableHosts().isEmpty)
        channels.pollStarted(hostIds: ["a", "b", "c"])
        channels.pollEnded(["a", "b", "c"].map { ($0, .answeredEmpty) })
        #expect(channels.unreachableHosts() == ["a", "b", "c"])
        channels.pollStarted(hostIds: ["a", "b", "c"])
        channels.pollStarted(hostId: "c") // a per-host poll still held for c
        channels.pollEnded(["a", "b", "c"].map { ($0, .connectionLost) })
        #expect(channels.unreachableHosts() == ["a", "b"])
        #expect(channels.hostsPolling() == 1)
    }

    @Test("one waiter on several topics wakes on any of them, and leaves nothing subscribed")
    func notifierWaitsOnSeveralTopics() async throws {
        let clock = ManualClock()
        let notifier = ChangeNotifier()
        let value = Mutex<String?>(nil)
        let waiter = Task {
            try await notifier.waitForValue(
                of: [.host("a"), .host("b"), .host("c")], until: clock.instant(in: .seconds(60))
            ) { value.withLock { $0 } }
        }
        try await clock.waitForSleepers(1)
        #expect(await notifier.waiterCount == 1)
        await notifier.notify(.host("elsewhere"))
        value.withLock { $0 = "b's hand-off" }
        await notifier.notify(.host("b"))
        let woken = try await Deadline.within(.seconds(30), "the waiter") { try await waiter.value }
        #expect(woken == "b's hand-off")
        #expect(await notifier.waiterCount == 0)
        #expect(clock.sleeperCount == 0, "its timer ended with it")
    }
}

/// A TCP connection to 127.0.0.1 that the test closes itself (no HTTP client keeps it).
private final class TCPConnection: Sendable {
    private let fd: Int32

    init(port: Int) throws {
        fd = try LoopbackTCP.connect(port: port)
    }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw TestFailure("send: \(String(cString: strerror(errno)))") }
            sent += count
        }
    }

    func close() {
        Glibc.close(fd)
    }
}
