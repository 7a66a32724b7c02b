import AllocationStorePostgres
import Foundation
import Logging
import PostgresNIO

/// A database of its own for one benchmark run on a PostgreSQL server the user names
/// (`--postgres URL`, any existing database of it, e.g. `postgres`): created empty before the
/// run (gsmsd creates its tables) and dropped afterwards.
struct ScratchDatabase: Sendable {
    let name: String
    /// The URL gsmsd gets: the server's, with this database.
    let url: String
    private let server: PostgresStoreConfiguration

    private static let logger = Logger(label: "sessionhost-bench.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    static func create(serverURL: String) async throws -> ScratchDatabase {
        let server: PostgresStoreConfiguration
        do {
            server = try PostgresStoreConfiguration(url: serverURL)
        } catch {
            throw BenchError("--postgres: \(error.message)")
        }
        guard var components = URLComponents(string: serverURL) else { throw BenchError("--postgres: not a URL") }
        let name = "sessionhost_bench_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        components.path = "/" + name
        guard let url = components.string else { throw BenchError("--postgres: not a URL") }
        try await administer(server) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        return ScratchDatabase(name: name, url: url, server: server)
    }

    /// Drops the database (and disconnects whoever is still connected).
    func drop() async throws {
        try await Self.administer(server) { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: Self.logger)
        }
    }

    private static func administer(
        _ server: PostgresStoreConfiguration, _ body: (PostgresConnection) async throws -> Void
    ) async throws {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: try server.connectionConfiguration(), id: 1, logger: logger)
        } catch {
            throw BenchError(
                "cannot connect to \(server.redactedDescription): \(String(reflecting: error).prefix(300))")
        }
        do {
            try await body(connection)
        } catch {
            try? await connection.close()
            throw BenchError("PostgreSQL refused: \(String(reflecting: error).prefix(300))")
        }
        try await connection.close()
    }
}
