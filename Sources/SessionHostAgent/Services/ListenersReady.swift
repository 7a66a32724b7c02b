import Synchronization

/// Counts the listeners that must serve before the agent says READY=1 (the socket, and the GSDK
/// listener once its config file is written, so that a game server ordered after the agent
/// finds the file): `stream` yields once all of them called `listenerReady()`.
public final class ListenersReady: Sendable {
    public let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    private let remaining: Mutex<Int>

    public init(count: Int) {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self)
        remaining = Mutex(count)
    }

    public func listenerReady() {
        let last = remaining.withLock { remaining -> Bool in
            remaining -= 1
            return remaining == 0
        }
        if last {
            continuation.yield()
            continuation.finish()
        }
    }
}
