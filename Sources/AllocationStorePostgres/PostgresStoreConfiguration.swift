import FoundationEssentials
import NIOSSL
public import PostgresNIO
public import SessionHostModel

/// Where the shared store lives: a `postgres://` (or `postgresql://`) URL, as libpq writes it.
///
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require][&host=/socket/dir]`.
/// User, password and database are percent-decoded; the port defaults to 5432; `sslmode`
/// defaults to `prefer` (TLS when the server offers it). With `host=` naming a directory, the
/// connection goes through the Unix socket `DIR/.s.PGSQL.PORT` instead of TCP.
public struct PostgresStoreConfiguration: Sendable, Equatable {
    public enum TLSMode: String, Sendable, Equatable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    /// A directory holding the server's Unix socket; used instead of `host` when set.
    public var socketDirectory: String?
    public var username: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode
    /// Most connections the store's pool opens to the server.
    public var maximumConnections: Int

    public init(
        host: String, port: Int = 5432, socketDirectory: String? = nil, username: String, password: String? = nil,
        database: String, tlsMode: TLSMode = .prefer, maximumConnections: Int = 16
    ) {
        self.host = host
        self.port = port
        self.socketDirectory = socketDirectory
        self.username = username
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
        self.maximumConnections = maximumConnections
    }

    /// Parses a `postgres://` URL; throws `PostgresURLError` saying what is wrong.
    public init(url text: String) throws(PostgresURLError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw PostgresURLError("expected postgres://USER@HOST[:PORT]/DATABASE")
        }
        var socketDirectory: String?
        var tlsMode = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                    throw PostgresURLError("sslmode must be disable, prefer or require")
                }
                tlsMode = mode
            case "host":
                guard let value = item.value, value.hasPrefix("/") else {
                    throw PostgresURLError("host= must name the directory of the server's Unix socket")
                }
                socketDirectory = value
            default:
                throw PostgresURLError("unknown parameter '\(item.name.prefix(40))' (known: sslmode, host)")
            }
        }
        let host = components.percentEncodedHost.flatMap { $0.removingPercentEncoding } ?? ""
        guard !host.isEmpty || socketDirectory != nil else { throw PostgresURLError("the URL names no host") }
        guard let username = components.percentEncodedUser?.removingPercentEncoding, !username.isEmpty else {
            throw PostgresURLError("the URL names no user (postgres://USER@HOST/DATABASE)")
        }
        let database = String(components.percentEncodedPath.dropFirst()).removingPercentEncoding ?? ""
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresURLError("the URL names no database (postgres://USER@HOST/DATABASE)")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw PostgresURLError("the port must be 1 to 65535") }
        self.init(
            host: host.isEmpty ? "localhost" : host, port: port, socketDirectory: socketDirectory, username: username,
            password: components.percentEncodedPassword?.removingPercentEncoding, database: database, tlsMode: tlsMode)
    }

    /// Where it connects, without the password (for logs).
    public var redactedDescription: String {
        let place = socketDirectory.map { "\($0)/.s.PGSQL.\(port)" } ?? "\(host):\(port)"
        return "postgres://\(username)@\(place)/\(database)"
    }

    /// The pool's configuration.
    var clientConfiguration: PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socketDirectory {
            configuration = PostgresClient.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: username, password: password,
                database: database)
        } else {
            configuration = PostgresClient.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// A single connection's configuration (the listener's, tools').
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        if let socketDirectory {
            return PostgresConnection.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: username, password: password,
                database: database)
        }
        let connectionTLS: PostgresConnection.Configuration.TLS
        switch tlsMode {
        case .disable: connectionTLS = .disable
        case .prefer: connectionTLS = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: connectionTLS = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        return PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: connectionTLS)
    }

    private var tls: PostgresClient.Configuration.TLS {
        switch tlsMode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }
}

/// A `--database postgres://…` URL that cannot be used; the message says why (never the password).
public struct PostgresURLError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code = Code.invalidDatabaseURL
    public var message: String

    /// The code of a URL that cannot be used: always ``Code/invalidDatabaseURL``.
    public struct Code: ErrorCode {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let invalidDatabaseURL = Code(rawValue: "InvalidDatabaseURL")
    }

    init(_ message: String) { self.message = message }

    public var description: String { "\(code): \(message)" }
}
