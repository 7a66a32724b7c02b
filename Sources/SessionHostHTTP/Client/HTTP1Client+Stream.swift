import NIOCore
import NIOHTTP1

extension HTTP1Client {
    private typealias StreamConnection = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    /// Sends one request on a connection of its own and hands each non-empty line of a `200`
    /// answer to `onLine` as it arrives (an event stream); returns when the answer ends or the
    /// server closes the connection, with the answer's status and headers, and as body what
    /// followed the last line (for another status: the whole body, up to the cap).
    ///
    /// A line longer than `configuration.maximumAnswerBytes` fails with
    /// ``HTTP1ClientError/answerTooLarge(limit:)``; `timeout`, when given, bounds the whole
    /// answer. Cancelling the task closes the connection.
    public nonisolated func stream(
        _ request: HTTP1Request, timeout: TimeAmount? = nil, onLine: @Sendable ([UInt8]) async throws -> Void
    ) async throws -> HTTP1Response {
        let deadline = timeout.map { NIODeadline.now() + $0 }
        let configuration = self.configuration
        let connection = try await HTTP1Connection.connectChannel(
            configuration, group: eventLoopGroup, deadline: deadline
        ) { channel in
            channel.eventLoop.makeCompletedFuture {
                try HTTP1Connection.addHTTPHandlers(to: channel.pipeline.syncOperations, configuration)
                return try StreamConnection(wrappingChannelSynchronously: channel)
            }
        }
        let channel = connection.channel
        let timer = deadline.map { deadline in
            channel.eventLoop.scheduleTask(deadline: deadline) { channel.close(promise: nil) }
        }
        defer { timer?.cancel() }
        let limit = configuration.maximumAnswerBytes
        let head = request.head(address: configuration.address, keepAlive: false)
        do {
            return try await withTaskCancellationHandler {
                try await connection.executeThenClose { inbound, outbound in
                    var parts: [HTTPClientRequestPart] = [.head(head)]
                    if let body = request.body { parts.append(.body(.byteBuffer(body))) }
                    parts.append(.end(nil))
                    try await outbound.write(contentsOf: parts)
                    var answer: HTTPResponseHead?
                    var pending: [UInt8] = []
                    for try await part in inbound {
                        switch part {
                        case .head(let received):
                            answer = received
                        case .body(let buffer):
                            pending.append(contentsOf: buffer.readableBytesView)
                            if answer?.status == .ok {
                                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                                    let line = Array(pending[..<newline])
                                    pending.removeSubrange(...newline)
                                    if !line.isEmpty { try await onLine(line) }
                                }
                            }
                            if pending.count > limit { throw HTTP1ClientError.answerTooLarge(limit: limit) }
                        case .end:
                            return Self.response(answer, pending)
                        }
                    }
                    // The server closed the connection: the end of the stream, once it had begun.
                    if let deadline, NIODeadline.now() >= deadline { throw HTTP1ClientError.timedOut }
                    guard answer != nil else { throw HTTP1ClientError.connectionClosed(answerStarted: false) }
                    return Self.response(answer, pending)
                }
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch let error as HTTP1ClientError {
            throw error
        } catch {
            if let deadline, NIODeadline.now() >= deadline { throw HTTP1ClientError.timedOut }
            throw error
        }
    }

    private static func response(_ head: HTTPResponseHead?, _ body: [UInt8]) -> HTTP1Response {
        HTTP1Response(
            status: head?.status ?? .ok, headers: head?.headers ?? HTTPHeaders(), body: ByteBuffer(bytes: body),
            keepAlive: false)
    }
}
