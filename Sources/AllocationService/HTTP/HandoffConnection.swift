import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The connection of a held hand-off poll: keepalive probes make a dead peer (a crashed
/// machine, a partition) close a TCP connection within about `deadAfter`; an agent whose
/// process died closes it at once (its kernel's FIN ends the connection rather than
/// half-closing it); and the poll ends the moment it closes, so that `HandoffChannels` knows
/// the host cannot be reached.
enum HandoffConnection {
    /// Probes start after 1 s of silence and repeat every second; the kernel gives the
    /// connection up when nothing has been acknowledged for this long.
    static let deadAfter = TimeAmount.milliseconds(2500)

    /// Arms `channel` for a held poll, on its event loop, without waiting: keepalive probes on
    /// (TCP connections, once), a FIN closes the connection while the poll is held, and
    /// `onClose` runs once when the connection closes before `unwatch` (at once when it is
    /// closed already; a channel that was never active, such as a test's, is not closed).
    /// (Hummingbird allows half-closure; an agent never half-closes a connection it waits on.)
    ///
    /// The connection keeps one `PollWatcher` for all its polls, holding only the current
    /// poll's action: a callback per poll on the connection's `closeFuture` would pile up on a
    /// keep-alive connection until it closed (3.6 KB per poll, measured).
    static func watch(_ channel: any Channel, onClose: @escaping @Sendable () -> Void) {
        channel.eventLoop.execute {
            let pipeline = channel.pipeline.syncOperations
            if let watcher = try? pipeline.handler(type: PollWatcher.self) {
                if watcher.closed { return onClose() }
                watcher.onClose = onClose
                return
            }
            let watcher = PollWatcher()
            do {
                try pipeline.addHandler(watcher, position: .first)
            } catch {
                return onClose() // the pipeline of a closed connection takes no handler
            }
            watcher.onClose = onClose
            let tcp = channel.remoteAddress?.protocol == .inet || channel.remoteAddress?.protocol == .inet6
            guard tcp, let socket = channel.syncOptions else { return }
            for (level, name, value) in options {
                try? socket.setOption(ChannelOptions.Types.SocketOption(level: level, name: name), value: value)
            }
        }
    }

    /// The poll on `channel` ended: its close action is dropped, and a FIN no longer closes
    /// the connection.
    static func unwatch(_ channel: any Channel) {
        channel.eventLoop.execute {
            (try? channel.pipeline.syncOperations.handler(type: PollWatcher.self))?.onClose = nil
        }
    }

    /// The connection's watcher: while a poll is held (`onClose` set), the peer closing its side
    /// closes the connection (the agent waiting for the answer is gone), and the connection
    /// closing runs `onClose`.
    final class PollWatcher: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny
        /// The held poll's action; set and read on the connection's event loop only.
        var onClose: (@Sendable () -> Void)?
        /// Whether the connection closed (then a new poll's action runs at once).
        private(set) var closed = false

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if onClose != nil, case ChannelEvent.inputClosed = event {
                context.close(promise: nil)
                return
            }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed = true
            let action = onClose
            onClose = nil
            action?()
            context.fireChannelInactive()
        }
    }

    /// SOL_SOCKET SO_KEEPALIVE, then TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT and TCP_USER_TIMEOUT.
    static var options: [(SocketOptionLevel, SocketOptionName, SocketOptionValue)] {
        let tcp = SocketOptionLevel(IPPROTO_TCP)
        return [
            (SocketOptionLevel(SOL_SOCKET), SocketOptionName(SO_KEEPALIVE), 1),
            (tcp, SocketOptionName(TCP_KEEPIDLE), 1),
            (tcp, SocketOptionName(TCP_KEEPINTVL), 1),
            (tcp, SocketOptionName(TCP_KEEPCNT), 2),
            (tcp, SocketOptionName(TCP_USER_TIMEOUT), SocketOptionValue(deadAfter.nanoseconds / 1_000_000)),
        ]
    }

    /// Runs `body` as a held poll on `channel` (see `watch`), in the caller's task: the
    /// connection closing first stops the `WaitStop` given to `body` (which hands it to its
    /// change wait); `closed` says whether it closed.
    static func run<Value: Sendable>(
        on channel: any Channel, _ body: (WaitStop) async throws -> Value
    ) async throws -> (value: Value, closed: Bool) {
        let stop = WaitStop()
        watch(channel) { stop.stop() }
        defer { unwatch(channel) }
        let value = try await body(stop)
        return (value, !channel.isActive)
    }
}
