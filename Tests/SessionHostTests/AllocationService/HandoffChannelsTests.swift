import Testing

@testable import AllocationService

/// Which hosts gsmsd passes over because their hand-off channel is down (`HandoffChannels`).
@Suite("hand-off channels")
struct HandoffChannelsTests {
    @Test("a poll whose connection died marks the host down until its next poll")
    func connectionLost() {
        let channels = HandoffChannels()
        channels.pollStarted(hostId: "vm-1")
        #expect(channels.unreachableHosts().isEmpty)
        channels.pollEnded(hostId: "vm-1", outcome: .connectionLost)
        #expect(channels.unreachableHosts() == ["vm-1"])
        #expect(channels.isDown(hostId: "vm-1"))
        channels.pollStarted(hostId: "vm-1")
        #expect(channels.unreachableHosts().isEmpty)
    }

    @Test("a host with another poll still held is not down when one of its connections dies")
    func anotherPollHeld() {
        let channels = HandoffChannels()
        channels.pollStarted(hostId: "vm-1")
        channels.pollStarted(hostId: "vm-1")
        channels.pollEnded(hostId: "vm-1", outcome: .connectionLost)
        #expect(channels.unreachableHosts().isEmpty)
    }

    @Test("an empty answer must be followed by a new poll within the grace; hand-offs and looks need none")
    func answeredEmpty() {
        let strict = HandoffChannels(repollGrace: .zero)
        strict.pollStarted(hostId: "vm-1")
        strict.pollEnded(hostId: "vm-1", outcome: .answeredEmpty)
        #expect(strict.unreachableHosts() == ["vm-1"])
        for outcome in [HandoffChannels.PollOutcome.handedOff, .looked] {
            strict.pollStarted(hostId: "vm-2")
            strict.pollEnded(hostId: "vm-2", outcome: outcome)
        }
        #expect(strict.unreachableHosts() == ["vm-1"])

        let lenient = HandoffChannels(repollGrace: .seconds(3600))
        lenient.pollStarted(hostId: "vm-1")
        lenient.pollEnded(hostId: "vm-1", outcome: .answeredEmpty)
        #expect(lenient.unreachableHosts().isEmpty)
    }

    @Test("hosts never seen polling, and deregistered hosts, are not listed")
    func unknownAndForgotten() {
        let channels = HandoffChannels()
        #expect(!channels.isDown(hostId: "never-polled"))
        channels.pollStarted(hostId: "vm-1")
        channels.pollEnded(hostId: "vm-1", outcome: .connectionLost)
        channels.forget(hostId: "vm-1")
        #expect(channels.unreachableHosts().isEmpty)
    }
}
