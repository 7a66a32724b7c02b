import NIOCore
import NIOPosix
import SessionHostHTTP

/// The floor of the agent benchmark: the agent's HTTP layer (`HTTPServer` on a Unix socket, on
/// one event-loop thread as the agent has) answering every request with the same JSON body and
/// the agent's headers, without the agent behind it.
struct FloorServer: Sendable {
    let task: Task<Void, any Error>
    let stopping: OneShotSignal
    let group: MultiThreadedEventLoopGroup

    static func start(path: String, body: [UInt8]) async throws -> FloorServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let stopping = OneShotSignal()
        let (listening, continuation) = AsyncThrowingStream.makeStream(of: Void.self)
        let server = HTTPServer(
            configuration: .init(address: .unixSocket(path: path, mode: 0o600)),
            eventLoopGroup: group, stopping: stopping,
            onListening: { _ in continuation.yield() },
            handler: { _ in .json(status: 200, body: body) })
        let task = Task {
            do {
                try await server.run()
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
                throw error
            }
        }
        do {
            for try await _ in listening { break }
            return FloorServer(task: task, stopping: stopping, group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    func stop() async {
        stopping.fire()
        _ = try? await task.value
        try? await group.shutdownGracefully()
    }
}
