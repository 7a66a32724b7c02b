import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The TCP connection of a held hand-off poll: keepalive probes make a dead peer (a crashed
/// machine, a partition) close the connection within about `deadAfter`; an agent whose process
/// died closes it at once (its kernel's FIN ends the connection rather than half-closing it);
/// and the poll ends the moment it closes, so that `HandoffChannels` knows the host cannot be
/// reached.
enum HandoffConnection {
    /// Probes start after 1 s of silence and repeat every second; the kernel gives the
    /// connection up when nothing has been acknowledged for this long.
    static let deadAfter = TimeAmount.milliseconds(2500)

    /// Prepares `channel` (an agent's TCP connection; other channels are left alone) on its
    /// event loop, once, without waiting (the poll need not wait for it): keepalive on, and a
    /// `CloseOnInputClosed` handler, so that the FIN of an agent that died closes the connection.
    /// (Hummingbird allows half-closure; an agent never half-closes a connection it waits on.)
    static func watch(_ channel: any Channel) {
        guard channel.remoteAddress?.protocol == .inet || channel.remoteAddress?.protocol == .inet6 else { return }
        channel.eventLoop.execute {
            let pipeline = channel.pipeline.syncOperations
            if let watcher = try? pipeline.handler(type: CloseOnInputClosed.self) {
                watcher.pollHeld = true
                return
            }
            let watcher = CloseOnInputClosed()
            watcher.pollHeld = true
            try? pipeline.addHandler(watcher, position: .first)
            guard let socket = channel.syncOptions else { return }
            for (level, name, value) in options {
                try? socket.setOption(ChannelOptions.Types.SocketOption(level: level, name: name), value: value)
            }
        }
    }

    /// The poll on `channel` ended: a FIN no longer closes the connection.
    static func unwatch(_ channel: any Channel) {
        channel.eventLoop.execute {
            (try? channel.pipeline.syncOperations.handler(type: CloseOnInputClosed.self))?.pollHeld = false
        }
    }

    /// Closes the connection when the peer closes its side while a poll is held on it: the
    /// agent waiting for that poll's answer is gone.
    final class CloseOnInputClosed: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny
        /// Set and read on the connection's event loop only.
        var pollHeld = false

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if pollHeld, case ChannelEvent.inputClosed = event {
                context.close(promise: nil)
                return
            }
            context.fireUserInboundEventTriggered(event)
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

    /// Runs `body`, cancelling it when `channel` closes first; `closed` says whether it did.
    static func run<Value: Sendable>(
        on channel: any Channel, _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> (value: Value, closed: Bool) {
        let task = Task { try await body() }
        channel.closeFuture.whenComplete { _ in task.cancel() }
        let value = try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
        return (value, !channel.isActive)
    }
}
