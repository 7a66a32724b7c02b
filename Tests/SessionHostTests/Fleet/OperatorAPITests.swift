import Foundation
import SessionHostModel
import Testing

@testable import AllocationService

/// gsmsd's operator API (`/operator/v1/…`) and the title's session shutdown, against gsmsd built
/// in this process: authentication, listings with filters and paging, drains (no allocation,
/// agents told), shutdowns (the host released, the agent told), players.
@Suite("gsmsd operator API: inventory, drain, shutdown", .serialized)
struct OperatorAPITests {
    static let secret = "operator-secret-for-the-tests-0123456789abcdef"
    static let session = "3536d3e6-e85d-4f47-b898-9617d19dabcd"

    /// gsmsd with an operator secret (or without one).
    static func gsmsd(withOperatorAPI: Bool = true) throws -> (GSMSInProcess, TemporaryDirectory) {
        let secrets = try TemporaryDirectory()
        let file = secrets.file("operator.token")
        try Data((secret + "\n").utf8).write(to: URL(fileURLWithPath: file))
        let gsms = try GSMSInProcess { configuration in
            if withOperatorAPI { configuration.operatorTokenFile = file }
        }
        return (gsms, secrets)
    }

    static let operatorHeaders = [("Authorization", "Bearer " + secret)]

    static func get<T: Decodable>(_ gsms: GSMSInProcess.Driver, _ path: String, as: T.Type) async throws -> T {
        let answer = try await gsms.client.send(.GET, path, headers: operatorHeaders)
        guard answer.status == 200 else { throw TestFailure("GET \(path): \(answer)") }
        return try answer.decode(T.self)
    }

    @Test("only the operator secret opens the operator API; without a secret it is not served")
    func authentication() async throws {
        let (gsms, secrets) = try Self.gsmsd()
        try await gsms.run { gsms in
            let none = try await gsms.client.send(.GET, "/operator/v1/hosts")
            #expect(none.status == 401)
            #expect(try none.decode(ErrorBody.self).code == "MissingOperatorToken")
            let wrong = try await gsms.client.send(
                .GET, "/operator/v1/hosts", headers: [("Authorization", "Bearer not-the-operator-secret")])
            #expect(try wrong.decode(ErrorBody.self).code == "InvalidOperatorToken")
            let fleet = try await gsms.client.send(
                .GET, "/operator/v1/hosts", headers: [("Authorization", "Bearer " + GSMSProcess.fleetSecret)])
            #expect(fleet.status == 401)
            let title = try await gsms.client.send(
                .GET, "/operator/v1/hosts", headers: [try await GSMSProcess.authorization(["1234"])])
            #expect(title.status == 401)
            let right = try await gsms.client.send(.GET, "/operator/v1/hosts", headers: Self.operatorHeaders)
            #expect(right.status == 200)
            let method = try await gsms.client.send(.POST, "/operator/v1/hosts", headers: Self.operatorHeaders)
            #expect(method.status == 405)
        }
        let (plain, _) = try Self.gsmsd(withOperatorAPI: false)
        try await plain.run { gsms in
            let answer = try await gsms.client.send(.GET, "/operator/v1/hosts", headers: Self.operatorHeaders)
            #expect(answer.status == 404)
        }
        _ = secrets
    }

    @Test("hosts are listed by title, region, state and VM, a page at a time; bad filters are refused")
    func listHosts() async throws {
        let (gsms, secrets) = try Self.gsmsd()
        try await gsms.run { gsms in
            for index in 1...5 {
                let answer = try await gsms.register(
                    host: "host-\(index)", region: index <= 3 ? "WestUS" : "EastUS",
                    state: index == 5 ? "Initializing" : "StandingBy", extra: ["vmId": index <= 2 ? "vm-a" : "vm-b"])
                #expect(answer.status == 200)
            }
            let all = try await Self.get(gsms, "/operator/v1/hosts", as: OperatorHostPage.self)
            #expect(all.hosts.map(\.sessionHostId) == ["host-1", "host-2", "host-3", "host-4", "host-5"])
            #expect(all.next == nil)
            let west = try await Self.get(gsms, "/operator/v1/hosts?region=westus", as: OperatorHostPage.self)
            #expect(west.hosts.count == 3)
            let vm = try await Self.get(gsms, "/operator/v1/hosts?vmId=vm-a", as: OperatorHostPage.self)
            #expect(vm.hosts.map(\.sessionHostId) == ["host-1", "host-2"])
            #expect(vm.hosts.allSatisfy { $0.vmId == "vm-a" && $0.titleId == "1234" })
            let starting = try await Self.get(
                gsms, "/operator/v1/hosts?state=Initializing&titleId=1234", as: OperatorHostPage.self)
            #expect(starting.hosts.map(\.sessionHostId) == ["host-5"])

            let first = try await Self.get(gsms, "/operator/v1/hosts?limit=2", as: OperatorHostPage.self)
            #expect(first.hosts.map(\.sessionHostId) == ["host-1", "host-2"])
            let second = try await Self.get(
                gsms, "/operator/v1/hosts?limit=2&after=\(try #require(first.next))", as: OperatorHostPage.self)
            #expect(second.hosts.map(\.sessionHostId) == ["host-3", "host-4"])
            let last = try await Self.get(
                gsms, "/operator/v1/hosts?limit=2&after=\(try #require(second.next))", as: OperatorHostPage.self)
            #expect(last.hosts.map(\.sessionHostId) == ["host-5"])
            #expect(last.next == nil)

            for query in [
                "colour=blue", "state=Sleeping", "limit=0", "limit=1001", "titleId=bad%20title", "draining=maybe",
            ] {
                let answer = try await gsms.client.send(
                    .GET, "/operator/v1/hosts?\(query)", headers: Self.operatorHeaders)
                #expect(answer.status == 400, "\(query)")
                #expect(try answer.decode(ErrorBody.self).code == "InvalidFilter", "\(query)")
            }
        }
        _ = secrets
    }

    @Test("a drained VM gets no session, its agents are told in every answer, and the listing shows it")
    func drainVM() async throws {
        let (gsms, secrets) = try Self.gsmsd()
        try await gsms.run { gsms in
            try await gsms.register(host: "host-1", extra: ["vmId": "vm-a"])
            try await gsms.register(host: "host-2", extra: ["vmId": "vm-a"])
            let drain = try await gsms.client.send(
                .POST, "/operator/v1/drains", headers: Self.operatorHeaders,
                json: ["vmId": "vm-a", "deadlineSeconds": 600, "reason": "kernel upgrade"])
            #expect(drain.status == 200)
            let answer = try drain.decode(DrainAnswer.self)
            #expect(answer.hosts == 2)
            #expect(answer.drain.source == .operator)
            #expect(answer.drain.reason == "kernel upgrade")

            let allocation = try await gsms.allocate(["sessionId": Self.session])
            #expect(allocation.status == 503)

            let status = try await gsms.hostStatus("host-1").decode(HostStatus.self)
            #expect(status.drain?.deadline == answer.drain.deadline)
            let heartbeat = try await gsms.client.send(
                .POST, "/agent/v1/hosts/host-2/heartbeat", headers: gsms.agentHeaders("host-2"),
                json: ["state": "StandingBy", "health": "Healthy"])
            #expect(try heartbeat.decode(HostStatus.self).drain?.reason == "kernel upgrade")

            let draining = try await Self.get(gsms, "/operator/v1/hosts?draining=true", as: OperatorHostPage.self)
            #expect(draining.hosts.count == 2)
            #expect(draining.hosts.allSatisfy { $0.drain != nil && !$0.drained })

            // The agent reports the VM drained.
            _ = try await gsms.client.send(
                .POST, "/agent/v1/hosts/host-1/heartbeat", headers: gsms.agentHeaders("host-1"),
                json: [
                    "state": "StandingBy", "health": "Healthy", "drain": try Self.json(answer.drain), "drained": true,
                ])
            let drained = try await Self.get(gsms, "/operator/v1/hosts?vmId=vm-a", as: OperatorHostPage.self)
            #expect(drained.hosts.first { $0.sessionHostId == "host-1" }?.drained == true)

            // A new host on another VM is allocated.
            try await gsms.register(host: "host-3", extra: ["vmId": "vm-b"])
            let acknowledged = gsms.acknowledgeNextHandoff(host: "host-3")
            let placed = try await gsms.allocate(["sessionId": Self.session])
            #expect(placed.status == 200)
            #expect(try await acknowledged.value?.sessionHostId == "host-3")

            for body: [String: Any] in [
                [:], ["region": "WestUS"], ["vmId": "vm-a", "deadlineSeconds": 0],
                ["titleId": "1234", "deadlineSeconds": 604_801], ["titleId": "no title"],
                ["vmId": "vm-a", "reason": String(repeating: "x", count: 257)],
            ] {
                let refused = try await gsms.client.send(
                    .POST, "/operator/v1/drains", headers: Self.operatorHeaders, json: body)
                #expect(refused.status == 400, "\(body)")
            }
        }
        _ = secrets
    }

    @Test("the title shuts its session down: the host is released and its agent told; a second time is 404")
    func titleShutdown() async throws {
        let (gsms, secrets) = try Self.gsmsd()
        try await gsms.run { gsms in
            try await gsms.register(host: "host-1")
            let acknowledged = gsms.acknowledgeNextHandoff(host: "host-1")
            #expect(try await gsms.allocate(["sessionId": Self.session]).status == 200)
            _ = try await acknowledged.value
            let authorization = try await GSMSProcess.authorization(["1234"])

            let other = try await gsms.client.send(
                .DELETE, "/titles/1234/sessionhosts/\(Self.session)",
                headers: [try await GSMSProcess.authorization(["5678"])])
            #expect(other.status == 403)

            let shutdown = try await gsms.client.send(
                .DELETE, "/titles/1234/sessionhosts/\(Self.session)", headers: [authorization])
            #expect(shutdown.status == 200)
            #expect(try shutdown.decode(SessionShutdown.self).sessionHostId == "host-1")

            let status = try await gsms.hostStatus("host-1").decode(HostStatus.self)
            #expect(status.sessionId == nil)
            #expect(status.state == .terminating)
            let lookup = try await gsms.client.send(
                .GET, "/titles/1234/sessionhosts/\(Self.session)", headers: [authorization])
            #expect(lookup.status == 404)
            let again = try await gsms.client.send(
                .DELETE, "/titles/1234/sessionhosts/\(Self.session)", headers: [authorization])
            #expect(again.status == 404)
            #expect(try again.decode(ErrorBody.self).code == "SessionNotFound")
            let malformed = try await gsms.client.send(
                .DELETE, "/titles/1234/sessionhosts/not-a-guid", headers: [authorization])
            #expect(malformed.status == 400)
        }
        _ = secrets
    }

    @Test("sessions are listed with the players their games reported, found by player, and shut down by the operator")
    func sessionsAndPlayers() async throws {
        let (gsms, secrets) = try Self.gsmsd()
        try await gsms.run { gsms in
            try await gsms.register(host: "host-1", extra: ["vmId": "vm-a"])
            let acknowledged = gsms.acknowledgeNextHandoff(host: "host-1")
            #expect(try await gsms.allocate(["sessionId": Self.session]).status == 200)
            _ = try await acknowledged.value
            let heartbeat = try await gsms.client.send(
                .POST, "/agent/v1/hosts/host-1/heartbeat", headers: gsms.agentHeaders("host-1"),
                json: [
                    "state": "Active", "sessionId": Self.session, "health": "Healthy",
                    "players": [["playerId": "alice"], ["playerId": "bob"]],
                ])
            #expect(heartbeat.status == 200)

            let page = try await Self.get(gsms, "/operator/v1/sessions?titleId=1234", as: OperatorSessionPage.self)
            #expect(page.sessions.count == 1)
            #expect(page.sessions.first?.players?.map(\.playerId) == ["alice", "bob"])
            #expect(page.sessions.first?.vmId == "vm-a")
            let alice = try await Self.get(gsms, "/operator/v1/sessions?playerId=alice", as: OperatorSessionPage.self)
            #expect(alice.sessions.map(\.sessionId) == [Self.session])
            let nobody = try await Self.get(gsms, "/operator/v1/sessions?playerId=carol", as: OperatorSessionPage.self)
            #expect(nobody.sessions.isEmpty)
            let one = try await Self.get(
                gsms, "/operator/v1/titles/1234/sessions/\(Self.session)", as: OperatorSession.self)
            #expect(one.state == "Active")
            #expect(one.sessionHostId == "host-1")

            // The title's own lookup of its players (our extension), with a title token.
            let authorization = try await GSMSProcess.authorization(["1234"])
            let players = try await gsms.client.send(
                .GET, "/titles/1234/sessionhosts/\(Self.session)/players", headers: [authorization])
            #expect(players.status == 200)
            #expect(try players.decode(SessionPlayers.self).players.map(\.playerId) == ["alice", "bob"])
            let otherTitle = try await gsms.client.send(
                .GET, "/titles/1234/sessionhosts/\(Self.session)/players",
                headers: [try await GSMSProcess.authorization(["5678"])])
            #expect(otherTitle.status == 403)
            let unknown = try await gsms.client.send(
                .GET, "/titles/1234/sessionhosts/00000000-0000-4000-8000-000000000000/players", headers: [authorization]
            )
            #expect(try unknown.decode(ErrorBody.self).code == "SessionNotFound")

            let tooMany = try await gsms.client.send(
                .POST, "/agent/v1/hosts/host-1/heartbeat", headers: gsms.agentHeaders("host-1"),
                json: [
                    "state": "Active", "sessionId": Self.session, "health": "Healthy",
                    "players": (0...HostHeartbeat.maximumPlayers).map { ["playerId": "p\($0)"] },
                ])
            #expect(tooMany.status == 400)

            let shutdown = try await gsms.client.send(
                .DELETE, "/operator/v1/titles/1234/sessions/\(Self.session)", headers: Self.operatorHeaders)
            #expect(shutdown.status == 200)
            let after = try await Self.get(gsms, "/operator/v1/sessions", as: OperatorSessionPage.self)
            #expect(after.sessions.isEmpty)
            let gone = try await gsms.client.send(
                .GET, "/operator/v1/titles/1234/sessions/\(Self.session)", headers: Self.operatorHeaders)
            #expect(gone.status == 404)
        }
        _ = secrets
    }

    static func json(_ value: some Encodable) throws -> Any {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(value))
    }
}
