import NIOCore
import NIOHTTP1
import SessionHostHTTP

/// Load on an HTTP/1.1 server on a Unix socket, as wrk would make it: `concurrency` keep-alive
/// connections, each sending its next request as soon as the previous answer is complete.
/// `SessionHostHTTP`'s client connections do the work; each task owns its connection.
enum UnixSocketLoad {
    struct Result: Sendable {
        var latencies = Latencies()
        var errors = 0
        var seconds = 0.0
    }

    /// `total` requests `GET path` shared among the connections.
    static func run(
        socketPath: String, path: String, total: Int, concurrency: Int, group: any EventLoopGroup
    ) async throws -> Result {
        let configuration = HTTPClientConfiguration(address: .unix(path: socketPath))
        let connections = try await withThrowingTaskGroup(of: HTTP1Connection.self) { tasks in
            for _ in 0..<max(1, concurrency) {
                tasks.addTask { try await HTTP1Connection.connect(configuration, group: group) }
            }
            var all: [HTTP1Connection] = []
            for try await connection in tasks { all.append(connection) }
            return all
        }
        let ticket = Ticket()
        let started = ContinuousClock.now
        var result = try await withThrowingTaskGroup(of: Result.self) { tasks in
            for connection in connections {
                tasks.addTask { await drive(connection, path: path, ticket: ticket, total: total) }
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

    private static func drive(_ connection: HTTP1Connection, path: String, ticket: Ticket, total: Int) async -> Result {
        defer { connection.close() }
        var result = Result()
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "localhost")
        let request = HTTP1Request(method: .GET, path: path, headers: headers)
        while ticket.take() < total {
            let started = ContinuousClock.now
            do {
                let answer = try await connection.execute(request)
                if answer.status == .ok {
                    result.latencies.record(ContinuousClock.now - started)
                } else {
                    result.errors += 1
                }
            } catch {
                result.errors += 1
                break // the server closed the connection
            }
        }
        return result
    }
}
