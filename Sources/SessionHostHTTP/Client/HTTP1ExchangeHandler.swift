import NIOCore
import NIOHTTP1

/// One request to send on a connection, and where its answer goes.
struct HTTP1Exchange: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    /// When the answer must have arrived (the connection is closed then); `nil` for never.
    var deadline: NIODeadline?
    var answer: EventLoopPromise<HTTP1Response>
}

/// Runs HTTP/1.1 exchanges on one connection, one at a time: writes the request, collects the
/// answer (up to a size cap) and completes the exchange's promise, or fails it at its deadline
/// (closing the connection, which is then useless) or when the connection ends.
final class HTTP1ExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTP1Exchange
    typealias OutboundOut = HTTPClientRequestPart

    /// The largest answer body accepted.
    let maximumAnswerBytes: Int

    private struct Current {
        var promise: EventLoopPromise<HTTP1Response>
        var timeout: Scheduled<Void>?
        var head: HTTPResponseHead?
        var body: ByteBuffer?
    }

    private var current: Current?

    init(maximumAnswerBytes: Int) {
        self.maximumAnswerBytes = maximumAnswerBytes
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard current == nil else {
            exchange.answer.fail(HTTP1ClientError.busy)
            promise?.fail(HTTP1ClientError.busy)
            return
        }
        var timeout: Scheduled<Void>?
        if let deadline = exchange.deadline {
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            timeout = context.eventLoop.scheduleTask(deadline: deadline) {
                bound.value.handler.fail(HTTP1ClientError.timedOut)
                bound.value.context.close(promise: nil)
            }
        }
        current = Current(promise: exchange.answer, timeout: timeout)
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let body = exchange.body {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard current != nil else { return } // nothing asked: ignore
        switch unwrapInboundIn(data) {
        case .head(let head):
            current?.head = head
        case .body(var part):
            let size = (current?.body?.readableBytes ?? 0) + part.readableBytes
            guard size <= maximumAnswerBytes else {
                fail(HTTP1ClientError.answerTooLarge(limit: maximumAnswerBytes))
                context.close(promise: nil)
                return
            }
            if current?.body == nil {
                current?.body = part
            } else {
                current?.body?.writeBuffer(&part)
            }
        case .end:
            guard let finished = current, let head = finished.head else { return }
            current = nil
            finished.timeout?.cancel()
            finished.promise.succeed(
                HTTP1Response(
                    status: head.status, headers: head.headers, body: finished.body ?? ByteBuffer(),
                    keepAlive: head.isKeepAlive))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(HTTP1ClientError.connectionClosed(answerStarted: current?.head != nil))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    private func fail(_ error: any Error) {
        guard let failed = current else { return }
        current = nil
        failed.timeout?.cancel()
        failed.promise.fail(error)
    }
}
