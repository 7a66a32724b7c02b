import Foundation
import SessionHostModel
import SessionHostTitleClient
import Testing

/// Counts the client's attempts and when they happened: the token provider is asked once per attempt.
final class AttemptLog: @unchecked Sendable {
    private let lock = NSLock()
    private var times: [ContinuousClock.Instant] = []

    var count: Int { lock.withLock { times.count } }
    var instants: [ContinuousClock.Instant] { lock.withLock { times } }

    /// A token provider for `titles`, signed with gsmsd's key (or `key`), that records each call.
    func provider(titles: [String] = ["1234"], key: [UInt8] = GSMSProcess.tokenKey)
        -> @Sendable () async throws -> String
    {
        { [self] in
            lock.withLock { times.append(ContinuousClock.now) }
            return try await GSMSProcess.token(titles: titles, key: key)
        }
    }
}

/// `SessionHostTitleClient` against gsmsd built in this process and listening on a port
/// (`GSMSInProcess.run(live:)`), with simulated agents.
@Suite("TitleClient against gsmsd", .serialized)
struct TitleClientTests {
    static let guid = "3536d3e6-e85d-4f47-b898-9617d19dabcd"
    /// Retries quickly: three attempts, waits of at most 50 ms (a Retry-After of 1 s is shortened).
    static let tiny = RetryPolicy(maximumAttempts: 3, baseDelay: .milliseconds(10), maximumDelay: .milliseconds(50))

    static func baseURL(_ gsms: GSMSInProcess.Driver) -> String { "http://127.0.0.1:\(gsms.port ?? 0)" }

    static func client(
        _ gsms: GSMSInProcess.Driver, log: AttemptLog, titles: [String] = ["1234"], retry: RetryPolicy = tiny,
        key: [UInt8] = GSMSProcess.tokenKey
    ) -> TitleClient {
        TitleClient(
            baseURL: baseURL(gsms) + "/", titleId: "1234", token: log.provider(titles: titles, key: key), retry: retry)
    }

    static func session(_ name: String) -> String {
        "/serviceconfigs/00000000-0000-0000-0000-000000000000/sessiontemplates/quick/session/\(name)"
    }

    @Test("allocate: 200 decoded into SessionHostAllocation; sessionHost finds it; nil on 404 SessionNotFound")
    func allocateAndLookUp() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run(live: true) { gsms in
            try await gsms.register(host: "host-a", region: "East US")
            let agent = gsms.acknowledgeNextHandoff(host: "host-a")
            let log = AttemptLog()
            let client = Self.client(gsms, log: log)
            let allocation = try await client.allocate(
                SessionHostAllocationRequest(
                    sessionId: Self.guid.uppercased(), locations: ["EastUS"], sessionCookie: "map=dust2"))
            #expect(allocation.hostName == "host-a.example.net")
            #expect(allocation.region == "East US")
            #expect(allocation.sessionId == Self.guid)
            #expect(allocation.sessionHostId == "host-a")
            #expect(allocation.portMappings == [PortMapping(name: "game", internal: 7777, external: 30000)])
            #expect(!allocation.secureContext.isEmpty)
            #expect(log.count == 1)
            let handoff = try #require(try await agent.value)
            #expect(handoff.sessionId == Self.guid)

            #expect(try await client.sessionHost(sessionId: Self.guid) == allocation)
            #expect(try await client.sessionHost(sessionId: "11111111-2222-3333-4444-555555555555") == nil)
            // A 404 that is not SessionNotFound is an error, not nil.
            let unsubscribed = TitleClient(
                baseURL: Self.baseURL(gsms), titleId: "9999", token: log.provider(titles: ["9999"]), retry: Self.tiny)
            let error = try await #require(throws: TitleClientError.self) {
                _ = try await unsubscribed.sessionHost(sessionId: Self.guid)
            }
            #expect(error.status == 404)
            #expect(error.code == .titleNotSubscribed)
            #expect(error.correlationId?.count == 36)
        }
    }

    @Test("503 NoStandingByHost is retried maximumAttempts times, then thrown with the service's code")
    func serviceUnavailableRetried() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run(live: true) { gsms in
            let log = AttemptLog()
            let error = try await #require(throws: TitleClientError.self) {
                _ = try await Self.client(gsms, log: log).allocate(SessionHostAllocationRequest(sessionId: Self.guid))
            }
            #expect(error.status == 503)
            #expect(error.code == .noStandingByHost)
            #expect(!error.message.isEmpty)
            #expect(log.count == Self.tiny.maximumAttempts)
            #expect(error.correlationId?.count == 36, "the echoed X-XblCorrelationId GUID")
        }
    }

    @Test("Retry-After is honoured: the second attempt comes at least one second after the first")
    func retryAfterHonoured() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run(live: true) { gsms in
            let log = AttemptLog()
            let policy = RetryPolicy(maximumAttempts: 2, baseDelay: .milliseconds(10), maximumDelay: .seconds(5))
            let error = try await #require(throws: TitleClientError.self) {
                _ = try await Self.client(gsms, log: log, retry: policy).allocate(
                    SessionHostAllocationRequest(sessionId: Self.guid))
            }
            #expect(error.status == 503)
            let instants = log.instants
            #expect(instants.count == 2)
            if instants.count == 2 {
                let gap = instants[0].duration(to: instants[1])
                #expect(gap >= .seconds(1), "waited \(gap)")
                #expect(gap < .seconds(3), "waited \(gap)")
            }
        }
    }

    @Test("401 and 403 are thrown at once, never retried")
    func authorizationNotRetried() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run(live: true) { gsms in
            let forged = AttemptLog()
            let unauthorized = try await #require(throws: TitleClientError.self) {
                _ = try await Self.client(
                    gsms, log: forged, key: Array("another-key-of-at-least-thirty-two-bytes!!".utf8)
                )
                .allocate(SessionHostAllocationRequest(sessionId: Self.guid))
            }
            #expect(unauthorized.status == 401)
            #expect(unauthorized.code == .invalidToken)
            #expect(forged.count == 1)

            let otherTitle = AttemptLog()
            let forbidden = try await #require(throws: TitleClientError.self) {
                _ = try await Self.client(gsms, log: otherTitle, titles: ["5678"]).requestCluster(
                    sessionId: Self.session("x"))
            }
            #expect(forbidden.status == 403)
            #expect(forbidden.code == .titleNotAllowed)
            #expect(otherTitle.count == 1)

            let badRequest = AttemptLog()
            let invalid = try await #require(throws: TitleClientError.self) {
                _ = try await Self.client(gsms, log: badRequest).allocate(
                    SessionHostAllocationRequest(sessionId: "not-a-guid"))
            }
            #expect(invalid.status == 400)
            #expect(invalid.code == .invalidSessionId)
            #expect(badRequest.count == 1)
        }
    }

    @Test("409 AllocationInProgress is thrown at once while the same session id is in flight")
    func conflictNotRetried() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]) { $0.handoffTimeout = .seconds(30) }.run(live: true) { gsms in
            try await gsms.register(host: "host-a")
            let firstLog = AttemptLog()
            let first = Task {
                try await Self.client(gsms, log: firstLog).allocate(SessionHostAllocationRequest(sessionId: Self.guid))
            }
            let handoff = try #require(try await gsms.handoff(host: "host-a", wait: 20))

            let log = AttemptLog()
            let conflict = try await #require(throws: TitleClientError.self) {
                _ = try await Self.client(gsms, log: log).allocate(SessionHostAllocationRequest(sessionId: Self.guid))
            }
            #expect(conflict.status == 409)
            #expect(conflict.code == .allocationInProgress)
            #expect(log.count == 1)

            #expect(try await gsms.acknowledge(host: "host-a", sessionId: handoff.sessionId).status == 200)
            let allocation = try await first.value
            #expect(allocation.sessionHostId == "host-a")
            #expect(firstLog.count == 1)
        }
    }

    @Test("cluster: Queued, then waitForCluster answers Fulfilled once a host registers; Aborted with abortIfQueued")
    func clusterQueuedThenFulfilled() async throws {
        try await GSMSInProcess(titles: ["1234", "5678"]).run(live: true) { gsms in
            let log = AttemptLog()
            let client = Self.client(gsms, log: log)
            let aborted = try await client.requestCluster(sessionId: Self.session("abort"), abortIfQueued: true)
            #expect(aborted.fulfillmentState == .aborted)

            let queued = try await client.requestCluster(sessionId: Self.session("match-42"))
            #expect(queued.fulfillmentState == .queued)
            #expect(queued.queuePosition == 1)
            #expect(queued.pollIntervalMilliseconds >= 250)
            // Polling with a short timeout returns the last answer, still Queued.
            let stillQueued = try await client.waitForCluster(
                sessionId: Self.session("match-42"), timeout: .milliseconds(300))
            #expect(stillQueued.fulfillmentState == .queued)

            // Through a proxy, to see the first poll answered (Queued) before a host comes.
            let proxy = try await HTTPRecordingProxy(
                listen: .tcp(host: "127.0.0.1", port: 0), upstream: .tcp(host: "127.0.0.1", port: gsms.port ?? 0))
            let proxied = TitleClient(baseURL: proxy.url, titleId: "1234", token: log.provider(), retry: Self.tiny)
            let waiting = Task {
                try await proxied.waitForCluster(sessionId: Self.session("match-42"), timeout: .seconds(30))
            }
            try await proxy.waitUntil("the first poll answered") { log in
                log.contains { $0.method == "POST" && $0.path == "/titles/1234/clusters" && $0.status == 200 }
            }
            #expect(
                proxy.exchanges.first?.answerText.contains(#""fulfillmentState":"Queued""#) == true,
                "\(proxy.exchanges)")
            try await gsms.register(host: "host-a")
            let agent = gsms.acknowledgeNextHandoff(host: "host-a")
            let fulfilled = try await waiting.value
            #expect(fulfilled.fulfillmentState == .fulfilled)
            #expect(fulfilled.sessionHostId == "host-a")
            #expect(fulfilled.hostName == "host-a.example.net")
            #expect(fulfilled.sessionId == Self.session("match-42"))
            #expect(try await agent.value?.sessionId == Self.session("match-42"))
            #expect(proxy.exchanges.count >= 2, "it polled again: \(proxy.exchanges)")
            await proxy.stop()
        }
    }

    @Test("no answer: retried, then thrown as Unreachable without a status")
    func unreachable() async throws {
        let log = AttemptLog()
        let client = TitleClient(
            baseURL: "http://127.0.0.1:1", titleId: "1234", token: log.provider(), retry: Self.tiny)
        let error = try await #require(throws: TitleClientError.self) {
            _ = try await client.sessionHost(sessionId: Self.guid)
        }
        #expect(error.status == nil)
        #expect(error.code == TitleClientError.Code.unreachable)
        #expect(error.isUnreachable)
        #expect(log.count == Self.tiny.maximumAttempts)

        let bad = TitleClient(baseURL: "127.0.0.1:8080", titleId: "1234", token: log.provider(), retry: Self.tiny)
        let invalid = try await #require(throws: TitleClientError.self) {
            _ = try await bad.requestCluster(sessionId: "/x")
        }
        #expect(invalid.code == TitleClientError.Code.invalidRequest)
    }
}

@Suite("RetryPolicy")
struct RetryPolicyTests {
    @Test("retries only 408, 429, 500, 502, 503, 504")
    func retryableStatuses() {
        for status in [408, 429, 500, 502, 503, 504] { #expect(RetryPolicy.isRetryable(status: status)) }
        for status in [200, 400, 401, 403, 404, 405, 409, 413, 501] {
            #expect(!RetryPolicy.isRetryable(status: status))
        }
    }

    @Test("full jitter under an exponential cap; Retry-After as a floor; maximumDelay caps everything")
    func delays() {
        let policy = RetryPolicy(maximumAttempts: 10, baseDelay: .milliseconds(100), maximumDelay: .seconds(2))
        #expect(policy.delay(afterAttempt: 1, retryAfterSeconds: nil, random: { 1 }) == .milliseconds(100))
        #expect(policy.delay(afterAttempt: 3, retryAfterSeconds: nil, random: { 1 }) == .milliseconds(400))
        #expect(policy.delay(afterAttempt: 3, retryAfterSeconds: nil, random: { 0 }) == .zero)
        #expect(policy.delay(afterAttempt: 9, retryAfterSeconds: nil, random: { 1 }) == .seconds(2))
        #expect(policy.delay(afterAttempt: 1, retryAfterSeconds: 1, random: { 0 }) == .seconds(1))
        #expect(policy.delay(afterAttempt: 1, retryAfterSeconds: 1, random: { 1 }) == .milliseconds(1100))
        #expect(policy.delay(afterAttempt: 1, retryAfterSeconds: 60, random: { 0 }) == .seconds(2))
        #expect(RetryPolicy(maximumAttempts: 0, baseDelay: .zero, maximumDelay: .zero).maximumAttempts == 1)
    }
}
