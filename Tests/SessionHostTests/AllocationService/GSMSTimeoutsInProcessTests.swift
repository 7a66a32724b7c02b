import Foundation
import Testing

/// gsmsd's timeouts (hand-off, host, queue) against a manual clock, in process: the clock only
/// moves when the test advances it, so a timeout of minutes passes at once, and never early.
/// The sweeper sleeps on the clock between sweeps: once it sleeps again, its sweep is done.
@Suite("gsmsd timeouts on a manual clock, in process")
struct GSMSTimeoutsInProcessTests {
    static let guid = "3536d3e6-e85d-4f47-b898-9617d19dabcd"

    static func session(_ name: String) -> String {
        "/serviceconfigs/00000000-0000-0000-0000-000000000000/sessiontemplates/quick/session/\(name)"
    }

    static func gsms(
        _ clock: ManualClock, handoff: Duration = .seconds(5), host: Duration = .seconds(3600),
        queue: Duration = .seconds(3600)
    )
        throws -> GSMSInProcess
    {
        try GSMSInProcess(clock: clock) { configuration in
            configuration.handoffTimeout = handoff
            configuration.hostTimeout = host
            configuration.queueTimeout = queue
        }
    }

    /// The number of hosts of title 1234 in `state`, as `/metrics` shows it.
    static func hosts(_ gsms: GSMSInProcess.Driver, state: String) async throws -> Int? {
        let answer = try await gsms.client.send(.GET, "/metrics")
        let line = String(decoding: answer.body, as: UTF8.self).split(separator: "\n").first {
            $0.hasPrefix("gsms_hosts{") && $0.contains(#"title_id="1234""#) && $0.contains(#"state="\#(state)""#)
        }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) }
    }

    @Test("an allocation whose host never acknowledges gives up at the hand-off timeout of gsmsd's clock")
    func handoffTimeout() async throws {
        let clock = ManualClock()
        // Five minutes: real time cannot run it out while the test runs.
        try await Self.gsms(clock, handoff: .seconds(300)).run { gsms in
            #expect(try await gsms.register(host: "vm-1").status == 200)
            let request = Task { try await gsms.allocate(["sessionId": Self.guid]) }
            // Two sleepers: the sweeper, and the wait for vm-1's acknowledgement.
            try await clock.advance(by: .seconds(300), afterSleepers: 2)
            let answer = try await Deadline.within(.seconds(60), "the allocation's answer") { try await request.value }
            #expect(answer.status == 503, "\(answer)")
            #expect(answer.json["code"] as? String == "NoStandingByHost", "\(answer)")
        }
    }

    @Test("the sweeper marks a silent host Unhealthy once the host timeout passed on gsmsd's clock, not before")
    func silentHostExpires() async throws {
        let clock = ManualClock()
        try await Self.gsms(clock, host: .seconds(60)).run { gsms in
            #expect(try await gsms.register(host: "vm-1").status == 200)
            try await clock.advance(by: .seconds(30), afterSleepers: 1)
            try await clock.waitForSleepers(1)
            #expect(try await Self.hosts(gsms, state: "StandingBy") == 1, "30 s of silence is within the timeout")
            try await clock.advance(by: .seconds(60), afterSleepers: 1)
            try await clock.waitForSleepers(1)
            #expect(try await Self.hosts(gsms, state: "Unhealthy") == 1)
            #expect(try await Self.hosts(gsms, state: "StandingBy") == 0)
        }
    }

    @Test(
        "a queued cluster request whose caller stops polling expires at the queue timeout of gsmsd's clock, not before")
    func unpolledRequestExpires() async throws {
        let clock = ManualClock()
        try await Self.gsms(clock, queue: .seconds(60)).run { gsms in
            #expect(try await gsms.cluster(["sessionId": Self.session("forgotten")]).json["queuePosition"] as? Int == 1)
            try await clock.advance(by: .seconds(40), afterSleepers: 1)
            try await clock.waitForSleepers(1)
            // Still queued 40 s later: the newcomer is second.
            #expect(try await gsms.cluster(["sessionId": Self.session("newcomer")]).json["queuePosition"] as? Int == 2)
            // At 70 s the forgotten request (polled at 0 s) expired; the newcomer (polled at 40 s) did not.
            try await clock.advance(by: .seconds(30), afterSleepers: 1)
            try await clock.waitForSleepers(1)
            let newcomer = try await gsms.cluster(["sessionId": Self.session("newcomer")])
            #expect(newcomer.json["fulfillmentState"] as? String == "Queued", "\(newcomer)")
            #expect(newcomer.json["queuePosition"] as? Int == 1, "\(newcomer)")
        }
    }

    @Test(
        "abortIfQueued: when every free host fails to acknowledge in time, the answer is Aborted and nothing stays queued"
    )
    func abortedAfterFailedHandoffs() async throws {
        let clock = ManualClock()
        try await Self.gsms(clock, handoff: .seconds(300)).run { gsms in
            // Two hosts whose agents never acknowledge.
            #expect(try await gsms.register(host: "host-a").status == 200)
            #expect(try await gsms.register(host: "host-b").status == 200)
            let request = Task {
                try await gsms.cluster(["sessionId": Self.session("gives-up"), "abortIfQueued": true])
            }
            // The sweeper and the wait for the first host; then for the second.
            try await clock.advance(by: .seconds(300), afterSleepers: 2)
            try await clock.advance(by: .seconds(300), afterSleepers: 2)
            let answer = try await Deadline.within(.seconds(60), "the cluster answer") { try await request.value }
            #expect(answer.json["fulfillmentState"] as? String == "Aborted", "\(answer)")
            // It left no ticket behind: the next request is first in the queue.
            let next = try await gsms.cluster(["sessionId": Self.session("waits"), "abortIfQueued": false])
            #expect(next.json["fulfillmentState"] as? String == "Queued", "\(next)")
            #expect(next.json["queuePosition"] as? Int == 1, "\(next)")
        }
    }

    @Test(
        "on graceful shutdown, the cluster queue cancels a queued request's hand-off still waiting: no task outlives it"
    )
    func shutdownEndsQueuedHandoff() async throws {
        let clock = ManualClock()
        try await Deadline.within(.seconds(60), "gsmsd's graceful shutdown") {
            try await Self.gsms(clock, handoff: .seconds(300)).run { gsms in
                #expect(
                    try await gsms.cluster(["sessionId": Self.session("queued")]).json["queuePosition"] as? Int == 1)
                // The host serves the queue: the hand-off waits for an acknowledgement that never comes.
                #expect(try await gsms.register(host: "host-a").status == 200)
                try await clock.waitForSleepers(2)
            }
        }
        #expect(clock.sleeperCount == 0, "the sweeper and the hand-off's wait ended with gsmsd")
    }
}
