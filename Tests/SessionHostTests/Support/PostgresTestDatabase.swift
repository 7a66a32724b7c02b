@testable import AllocationStorePostgres
import Foundation
import Logging
import PostgresNIO

/// A fresh, empty database on the throwaway PostgreSQL cluster that `scripts/test` starts
/// (`scripts/test-postgres start`), whose URL it exports as `SESSIONHOST_TEST_POSTGRES_URL`.
/// Without that variable the test fails and says how to start the cluster: it is never skipped.
struct PostgresTestDatabase: Sendable {
    static let environmentVariable = "SESSIONHOST_TEST_POSTGRES_URL"
    static let logger = Logger(label: "test.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The database's name.
    let name: String
    /// `postgres://…/NAME`, for `gsmsd --database`.
    let url: String
    let configuration: PostgresStoreConfiguration
    private let server: PostgresStoreConfiguration

    /// Creates a database with a new name on the test cluster.
    static func create() async throws -> PostgresTestDatabase {
        guard let serverURL = ProcessInfo.processInfo.environment[environmentVariable], !serverURL.isEmpty else {
            throw TestFailure(
                "\(environmentVariable) is not set: the PostgreSQL tests need the throwaway cluster that scripts/test starts "
                    + "(by hand: eval \"$(scripts/test-postgres start)\", and scripts/test-postgres stop afterwards)")
        }
        let server = try PostgresStoreConfiguration(url: serverURL)
        let name = "sessionhost_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await administer(server) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        guard var components = URLComponents(string: serverURL) else { throw TestFailure("bad \(environmentVariable)") }
        components.path = "/" + name
        guard let url = components.string else { throw TestFailure("bad \(environmentVariable)") }
        var configuration = server
        configuration.database = name
        // Many tests run at once on one cluster: smaller pools than gsmsd's.
        configuration.maximumConnections = 8
        return PostgresTestDatabase(name: name, url: url, configuration: configuration, server: server)
    }

    /// Runs `body` with a new database and drops it afterwards, whatever happens.
    static func with(_ body: (PostgresTestDatabase) async throws -> Void) async throws {
        let database = try await create()
        do {
            try await body(database)
        } catch {
            try? await database.drop()
            throw error
        }
        try await database.drop()
    }

    /// Runs `sql` in this database (as the cluster's superuser); returns the first column of each
    /// row as text.
    func query(_ sql: String) async throws -> [String?] {
        var results: [String?] = []
        try await Self.administer(configuration) { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Self.logger).collect()
            results = try rows.map { row in try row.first.flatMap { try $0.decode(String?.self) } }
        }
        return results
    }

    /// Drops the database, disconnecting whoever is still connected.
    func drop() async throws {
        try await Self.administer(server) { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: Self.logger)
        }
    }

    /// Runs `body` on a connection to the cluster's own database.
    private static func administer(
        _ server: PostgresStoreConfiguration, _ body: (PostgresConnection) async throws -> Void
    ) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: try server.connectionConfiguration(), id: 1, logger: logger)
        do {
            try await body(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}
