import Foundation
import SessionHostModel
import Testing

/// `POST /titles/{titleId}/clusters` against gsmsd built in this process (`GSMSInProcess`).
@Suite("gsmsd clusters", .serialized)
struct GSMSClusterTests {
    static func session(_ name: String) -> String {
        "/serviceconfigs/00000000-0000-0000-0000-000000000000/sessiontemplates/quick/session/\(name)"
    }

    @Test("x-xbl-contract-version: 1 is required; abortIfQueued takes booleans and the strings true/false only")
    func contractAndBodyChecks() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run { gsms in
            let auth = try await GSMSProcess.authorization(["1234"])
            let noVersion = try await gsms.client.send(
                .POST, "/titles/1234/clusters", headers: [auth], json: ["sessionId": Self.session("a")])
            #expect(noVersion.status == 400)
            #expect(noVersion.json["code"] as? String == "UnsupportedContractVersion")
            let wrongVersion = try await gsms.client.send(
                .POST, "/titles/1234/clusters", headers: [auth, ("x-xbl-contract-version", "2")],
                json: ["sessionId": Self.session("a")])
            #expect(wrongVersion.status == 400)
            #expect(try await gsms.cluster(["sessionId": Self.session("a"), "abortIfQueued": "yes"]).status == 400)
            #expect(try await gsms.cluster(["sessionId": ""]).status == 400)
            #expect(try await gsms.cluster(["abortIfQueued": true]).status == 400)
            let unauthenticated = try await gsms.client.send(
                .POST, "/titles/1234/clusters", headers: [("x-xbl-contract-version", "1")],
                json: ["sessionId": Self.session("a")])
            #expect(unauthenticated.status == 401)
        }
    }

    @Test("Aborted with abortIfQueued as a string or a boolean when no host is free")
    func aborted() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run { gsms in
            for flag in ["true", "TRUE"] as [Any] + [true] {
                let answer = try await gsms.cluster(["sessionId": Self.session("abort"), "abortIfQueued": flag])
                #expect(answer.status == 200)
                #expect(answer.json["fulfillmentState"] as? String == "Aborted", "\(flag): \(answer)")
                #expect((answer.json["pollIntervalMilliseconds"] as? Int ?? 0) > 0)
            }
        }
    }

    @Test("Queued requests are fulfilled first in, first out as hosts become StandingBy; polling never queues twice")
    func queuedThenFulfilledInOrder() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run { gsms in
            let first = try await gsms.cluster(["sessionId": Self.session("first"), "abortIfQueued": "false"])
            #expect(first.json["fulfillmentState"] as? String == "Queued", "\(first)")
            #expect(first.json["queuePosition"] as? Int == 1)
            let second = try await gsms.cluster(["sessionId": Self.session("second")])
            #expect(second.json["queuePosition"] as? Int == 2)
            let poll = try await gsms.cluster(["sessionId": Self.session("first")])
            #expect(poll.json["fulfillmentState"] as? String == "Queued")
            #expect(poll.json["queuePosition"] as? Int == 1)
            #expect((poll.json["pollIntervalMilliseconds"] as? Int ?? 0) >= 250)

            try await gsms.register(host: "host-a")
            let agent = gsms.acknowledgeNextHandoff(host: "host-a")
            let handoff = try #require(try await agent.value)
            #expect(handoff.sessionId == Self.session("first"))
            var fulfilled = try await gsms.cluster(["sessionId": Self.session("first")])
            try await Deadline.waitUntilAsync("the first request to be Fulfilled", timeout: .seconds(10)) {
                fulfilled = try await gsms.cluster(["sessionId": Self.session("first")])
                return fulfilled.json["fulfillmentState"] as? String == "Fulfilled"
            }
            #expect(fulfilled.json["sessionHostId"] as? String == "host-a")
            #expect(fulfilled.json["hostName"] as? String == "host-a.example.net")
            #expect(fulfilled.json["portMappings"] != nil)
            let stillQueued = try await gsms.cluster(["sessionId": Self.session("second")])
            #expect(stillQueued.json["fulfillmentState"] as? String == "Queued")
            #expect(stillQueued.json["queuePosition"] as? Int == 1)
        }
    }

    @Test("a free host fulfils a cluster request at once")
    func fulfilledAtOnce() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run { gsms in
            try await gsms.register(host: "host-a")
            let agent = gsms.acknowledgeNextHandoff(host: "host-a")
            let answer = try await gsms.cluster(["sessionId": Self.session("now"), "abortIfQueued": true])
            #expect(answer.json["fulfillmentState"] as? String == "Fulfilled", "\(answer)")
            #expect(answer.json["sessionHostId"] as? String == "host-a")
            #expect(try await agent.value?.sessionId == Self.session("now"))
        }
    }
}
