import NIOCore
import NIOPosix
import Testing

@testable import AllocationService

/// `HandoffConnection` on a real loopback TCP connection: what a held poll leaves behind on a
/// keep-alive connection (nothing), and how a closing connection ends the poll it holds.
@Suite("HandoffConnection: held polls on one keep-alive connection")
struct HandoffConnectionTests {
    /// A loopback connection: gsmsd's side (`server`, half-closure allowed, as Hummingbird's) and
    /// the agent's (`client`).
    struct Loopback {
        let group: MultiThreadedEventLoopGroup
        let listener: any Channel
        let server: any Channel
        let client: any Channel

        static func open() async throws -> Loopback {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let accepted = group.next().makePromise(of: (any Channel).self)
            let listener = try await ServerBootstrap(group: group)
                .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    accepted.succeed(channel)
                    return channel.eventLoop.makeSucceededVoidFuture()
                }
                .bind(host: "127.0.0.1", port: 0).get()
            let client = try await ClientBootstrap(group: group)
                .connect(host: "127.0.0.1", port: listener.localAddress?.port ?? 0).get()
            return Loopback(
                group: group, listener: listener, server: try await accepted.futureResult.get(), client: client)
        }

        func close() async throws {
            try? await client.close()
            try? await listener.close()
            try await group.shutdownGracefully()
        }

        /// The watchers in the server's pipeline, and whether one holds a close action.
        func watchers() async throws -> (count: Int, armed: Bool) {
            let server = self.server
            return try await server.eventLoop.submit {
                let watcher = try? server.pipeline.syncOperations.handler(type: HandoffConnection.PollWatcher.self)
                return (watcher == nil ? 0 : 1, watcher?.onClose != nil)
            }.get()
        }
    }

    /// Counts its instances that were freed.
    final class Tracked: Sendable {
        let freed: ClockTests.Counter
        init(_ freed: ClockTests.Counter) { self.freed = freed }
        deinit { freed.increment() }
    }

    /// A poll's change wait with a deadline far away: `true` when it ended empty (the stop).
    static func heldWait(_ stop: WaitStop) async throws -> Bool {
        let empty = try await ChangeNotifier().waitForValue(
            of: [.host("vm-1")], until: ContinuousClock().instant(in: .seconds(600)), stop: stop
        ) { () -> String? in nil }
        return empty == nil
    }

    @Test("polls that ended leave nothing on the connection: one watcher, no close action kept, every action freed")
    func finishedPollsKeepNothing() async throws {
        let loopback = try await Loopback.open()
        let freed = ClockTests.Counter()
        for _ in 0..<200 {
            let tracked = Tracked(freed)
            HandoffConnection.watch(loopback.server) { _ = tracked }
            HandoffConnection.unwatch(loopback.server)
        }
        for _ in 0..<50 {
            let (value, closed) = try await HandoffConnection.run(on: loopback.server) { _ in 7 }
            #expect(value == 7 && !closed)
        }
        let watchers = try await loopback.watchers()
        #expect(watchers.count == 1)
        #expect(!watchers.armed)
        // The loop ran every watch and unwatch before `watchers()`: the 200 actions are gone
        // while the connection is still open.
        #expect(freed.value == 200)
        #expect(loopback.server.isActive)
        try await loopback.close()
    }

    @Test("a held poll ends the moment its connection closes, and says the connection closed")
    func closingEndsThePoll() async throws {
        let loopback = try await Loopback.open()
        let poll = Task {
            try await HandoffConnection.run(on: loopback.server) { stop in try await Self.heldWait(stop) }
        }
        try await Deadline.waitUntilAsync("the poll's watcher to be armed", timeout: .seconds(30)) {
            try await loopback.watchers().armed
        }
        try await loopback.server.close()
        let (ended, closed) = try await Deadline.within(.seconds(30), "the poll's end") { try await poll.value }
        #expect(ended)
        #expect(closed)
        try await loopback.close()
    }

    @Test("the agent's FIN while a poll is held closes the connection and ends the poll")
    func finEndsThePoll() async throws {
        let loopback = try await Loopback.open()
        let poll = Task {
            try await HandoffConnection.run(on: loopback.server) { stop in try await Self.heldWait(stop) }
        }
        try await Deadline.waitUntilAsync("the poll's watcher to be armed", timeout: .seconds(30)) {
            try await loopback.watchers().armed
        }
        try await loopback.client.close(mode: .output)
        let (ended, closed) = try await Deadline.within(.seconds(30), "the poll's end") { try await poll.value }
        #expect(ended)
        #expect(closed)
        #expect(!loopback.server.isActive)
        try await loopback.close()
    }

    @Test("a poll on a connection that closed already ends at once")
    func closedAlready() async throws {
        let loopback = try await Loopback.open()
        try await loopback.server.close()
        let (ended, closed) = try await Deadline.within(.seconds(30), "the poll's end") {
            try await HandoffConnection.run(on: loopback.server) { stop in try await Self.heldWait(stop) }
        }
        #expect(ended)
        #expect(closed)
        try await loopback.close()
    }
}
