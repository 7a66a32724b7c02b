import NIOCore
import NIOHTTP1

/// One request to send on a connection, and where its answer goes.
struct HTTPExchange: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    /// When the answer must have arrived; the connection is closed then.
    var deadline: NIODeadline
    var answer: EventLoopPromise<HTTPAnswer>
}

/// A whole HTTP answer.
struct HTTPAnswer: Sendable {
    var status: HTTPResponseStatus
    var body: ByteBuffer
    /// Whether the connection may carry another request.
    var keepAlive: Bool
}

/// Why an exchange failed before an answer arrived.
enum HTTPExchangeFailure: Error, Sendable, CustomStringConvertible {
    case timedOut
    /// The connection closed (or failed) before the whole answer arrived; `answerStarted` when
    /// part of it had come.
    case connectionClosed(answerStarted: Bool)
    case answerTooLarge(limit: Int)
    /// The connection is already carrying an exchange.
    case busy

    var description: String {
        switch self {
        case .timedOut: "no answer in time"
        case .connectionClosed: "the connection closed before the answer was complete"
        case .answerTooLarge(let limit): "the answer is over \(limit) bytes"
        case .busy: "the connection is busy"
        }
    }
}

/// Runs HTTP/1.1 exchanges on one connection, one at a time: writes the request, collects the
/// answer and completes the exchange's promise, or fails it at its deadline (closing the
/// connection, which is then useless) or when the connection ends.
final class HTTPExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPExchange
    typealias OutboundOut = HTTPClientRequestPart

    /// The largest answer body accepted.
    let maximumBodyBytes: Int

    private struct Current {
        var promise: EventLoopPromise<HTTPAnswer>
        var timeout: Scheduled<Void>
        var head: HTTPResponseHead?
        var body: ByteBuffer?
    }

    private var current: Current?

    init(maximumBodyBytes: Int) {
        self.maximumBodyBytes = maximumBodyBytes
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard current == nil else {
            exchange.answer.fail(HTTPExchangeFailure.busy)
            promise?.fail(HTTPExchangeFailure.busy)
            return
        }
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        let timeout = context.eventLoop.scheduleTask(deadline: exchange.deadline) {
            bound.value.handler.fail(HTTPExchangeFailure.timedOut)
            bound.value.context.close(promise: nil)
        }
        current = Current(promise: exchange.answer, timeout: timeout)
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let body = exchange.body {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard current != nil else { return }  // nothing asked: ignore
        switch unwrapInboundIn(data) {
        case .head(let head):
            current?.head = head
        case .body(var part):
            let size = (current?.body?.readableBytes ?? 0) + part.readableBytes
            guard size <= maximumBodyBytes else {
                fail(HTTPExchangeFailure.answerTooLarge(limit: maximumBodyBytes))
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
            finished.timeout.cancel()
            finished.promise.succeed(
                HTTPAnswer(status: head.status, body: finished.body ?? ByteBuffer(), keepAlive: head.isKeepAlive))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(HTTPExchangeFailure.connectionClosed(answerStarted: current?.head != nil))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    private func fail(_ error: any Error) {
        guard let failed = current else { return }
        current = nil
        failed.timeout.cancel()
        failed.promise.fail(error)
    }
}
