import NIOCore
import NIOHTTP1
import NIOPosix

/// Load on an HTTP/1.1 server on a Unix socket, as wrk would make it: `concurrency` keep-alive
/// connections, each sending its next request as soon as the previous answer is complete.
/// SwiftNIO's HTTP codec does the parsing; each task owns its connection.
enum UnixSocketLoad {
    typealias Connection = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    struct Result: Sendable {
        var latencies = Latencies()
        var errors = 0
        var seconds = 0.0
    }

    /// `total` requests `GET path` shared among the connections.
    static func run(
        socketPath: String, path: String, total: Int, concurrency: Int, group: any EventLoopGroup
    ) async throws -> Result {
        let connections = try await withThrowingTaskGroup(of: Connection.self) { tasks in
            for _ in 0..<max(1, concurrency) {
                tasks.addTask { try await connect(socketPath: socketPath, group: group) }
            }
            var all: [Connection] = []
            for try await connection in tasks { all.append(connection) }
            return all
        }
        let ticket = Ticket()
        let started = ContinuousClock.now
        var result = try await withThrowingTaskGroup(of: Result.self) { tasks in
            for connection in connections {
                tasks.addTask { try await drive(connection, path: path, ticket: ticket, total: total) }
            }
            var all = Result()
            for try await part in tasks {
                all.latencies.merge(part.latencies)
                all.errors += part.errors
            }
            return all
        }
        result.seconds = (ContinuousClock.now - started).seconds
        return result
    }

    private static func connect(socketPath: String, group: any EventLoopGroup) async throws -> Connection {
        try await ClientBootstrap(group: group)
            .connect(unixDomainSocketPath: socketPath) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
    }

    private static func drive(_ connection: Connection, path: String, ticket: Ticket, total: Int) async throws -> Result {
        try await connection.executeThenClose { inbound, outbound in
            var result = Result()
            var answers = inbound.makeAsyncIterator()
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "localhost")
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
            while ticket.take() < total {
                let started = ContinuousClock.now
                try await outbound.write(contentsOf: [.head(head), .end(nil)])
                var status = 0
                reading: while let part = try await answers.next() {
                    switch part {
                    case .head(let response): status = Int(response.status.code)
                    case .body: break
                    case .end: break reading
                    }
                }
                if status == 200 {
                    result.latencies.record(ContinuousClock.now - started)
                } else {
                    result.errors += 1
                    if status == 0 { break }  // the server closed the connection
                }
            }
            return result
        }
    }
}
