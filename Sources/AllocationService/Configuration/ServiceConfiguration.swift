public import AllocationStore
public import AllocationStorePostgres
import Logging
import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything `gsmsd` runs with, checked.
public struct ServiceConfiguration: Sendable {
    /// Where the inventory lives.
    public enum Database: Sendable, Equatable {
        /// The embedded store: one gsmsd instance.
        case sqlite(path: String)
        /// The shared store: one or more gsmsd instances over one PostgreSQL database.
        case postgres(PostgresStoreConfiguration)
    }

    public var listenHost: String
    public var listenPort: Int
    public var database: Database
    /// Titles with a subscription.
    public var titles: Set<String>
    public var tokenKeyFile: String
    public var agentTokenFile: String
    /// The operator secret's file; nil: no operator API.
    public var operatorTokenFile: String?
    public var handoffTimeout: Duration
    public var hostTimeout: Duration
    public var queueTimeout: Duration
    /// How long a connection may stay idle, or take to send a request head, before it is closed.
    public var idleTimeout: Duration
    /// How allocations choose among matching hosts (`--allocation-strategy`).
    public var allocationStrategy: AllocationStrategy
    public var logLevel: Logger.Level
    /// The standby buffer policies (`"standby-buffers"`); empty: none.
    public var standbyBuffers: [StandbyBufferPolicy]
    /// Where changes of the VMs wanted are sent (`"scaling-hook"`); nil: nowhere.
    public var scalingHook: ScalingHookConfiguration?
    /// How often the standby buffers are computed (`"buffer-interval"`).
    public var bufferInterval: Duration

    public init(
        listenHost: String = "127.0.0.1", listenPort: Int = 8080, database: Database, titles: Set<String>,
        tokenKeyFile: String, agentTokenFile: String, handoffTimeout: Duration = .seconds(5),
        hostTimeout: Duration = .seconds(15), queueTimeout: Duration = .seconds(30),
        idleTimeout: Duration = .seconds(75), allocationStrategy: AllocationStrategy = .packed,
        logLevel: Logger.Level = .info, operatorTokenFile: String? = nil,
        standbyBuffers: [StandbyBufferPolicy] = [], scalingHook: ScalingHookConfiguration? = nil,
        bufferInterval: Duration = .seconds(5)
    ) {
        self.standbyBuffers = standbyBuffers
        self.scalingHook = scalingHook
        self.bufferInterval = bufferInterval
        self.operatorTokenFile = operatorTokenFile
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.database = database
        self.titles = titles
        self.tokenKeyFile = tokenKeyFile
        self.agentTokenFile = agentTokenFile
        self.handoffTimeout = handoffTimeout
        self.hostTimeout = hostTimeout
        self.queueTimeout = queueTimeout
        self.idleTimeout = idleTimeout
        self.allocationStrategy = allocationStrategy
        self.logLevel = logLevel
    }

    /// Merges flags over the file over the defaults, and checks every value.
    public static func resolve(
        options: ServiceOptions, file: ServiceConfigFile, environment: [String: String]
    ) throws(InvalidInput) -> ServiceConfiguration {
        let (host, port) = try parseListen(options.listen ?? file.listen ?? "127.0.0.1:8080")

        let stateDirectory = environment["STATE_DIRECTORY"]?.split(separator: ":").first.map(String.init)
        let defaultDatabase = stateDirectory.map { $0 + "/gsms.sqlite" } ?? "./gsms.sqlite"
        let database = try parseDatabase(options.database ?? file.database ?? defaultDatabase)

        var titles = Set<String>()
        for title in options.titles.isEmpty ? (file.title ?? []) : options.titles {
            titles.insert(try TitleRules.validatedTitleID(title))
        }

        guard let tokenKeyFile = options.tokenKeyFile ?? file.tokenKeyFile else {
            throw InvalidInput(
                code: .missingTokenKey,
                message:
                    "--token-key-file is required: title tokens are always verified (create one with: head -c 32 /dev/urandom | base64 > token.key)"
            )
        }
        guard let agentTokenFile = options.agentTokenFile ?? file.agentTokenFile else {
            throw InvalidInput(
                code: .missingAgentToken,
                message:
                    "--agent-token-file is required: agents always authenticate (create one with: head -c 32 /dev/urandom | base64 > agent.token)"
            )
        }

        let handoff = try seconds(
            options.handoffTimeout ?? file.handoffTimeout ?? 5, flag: "handoff-timeout", range: 0.05...300)
        let hostTimeout = try seconds(
            options.hostTimeout ?? file.hostTimeout ?? 15, flag: "host-timeout", range: 0.3...86_400)
        let queueTimeout = try seconds(
            options.queueTimeout ?? file.queueTimeout ?? 30, flag: "queue-timeout", range: 1...86_400)
        let idleTimeout = try seconds(
            options.idleTimeout ?? file.idleTimeout ?? 75, flag: "idle-timeout", range: 0.1...3_600)

        let strategyText = options.allocationStrategy ?? file.allocationStrategy ?? "packed"
        guard let allocationStrategy = AllocationStrategy(rawValue: strategyText.lowercased()) else {
            throw InvalidInput(
                code: .invalidAllocationStrategy,
                message:
                    "--allocation-strategy must be one of \(AllocationStrategy.allCases.map(\.rawValue).joined(separator: ", ")), got '\(strategyText.prefix(64))'"
            )
        }

        let levelText = options.logLevel ?? file.logLevel ?? "info"
        guard let logLevel = Logger.Level(rawValue: levelText.lowercased()) else {
            throw InvalidInput(
                code: .invalidLogLevel,
                message: "--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        let standbyBuffers = try standbyBufferPolicies(file.standbyBuffers ?? [], titles: titles)
        let scalingHook = try file.scalingHook.map { (entry) throws(InvalidInput) in try Self.scalingHook(entry) }
        let intervalSeconds = file.bufferInterval ?? 5
        guard intervalSeconds.isFinite, (0.1...3_600).contains(intervalSeconds) else {
            throw InvalidInput(
                code: .invalidStandbyBuffer, message: "buffer-interval must be 0.1 to 3600 seconds (default 5)")
        }
        return ServiceConfiguration(
            listenHost: host, listenPort: port, database: database, titles: titles, tokenKeyFile: tokenKeyFile,
            agentTokenFile: agentTokenFile, handoffTimeout: handoff, hostTimeout: hostTimeout,
            queueTimeout: queueTimeout, idleTimeout: idleTimeout, allocationStrategy: allocationStrategy,
            logLevel: logLevel, operatorTokenFile: options.operatorTokenFile ?? file.operatorTokenFile,
            standbyBuffers: standbyBuffers, scalingHook: scalingHook,
            bufferInterval: .milliseconds(Int64((intervalSeconds * 1000).rounded())))
    }

    /// `HOST:PORT`, `[IPv6]:PORT`.
    static func parseListen(_ text: String) throws(InvalidInput) -> (String, Int) {
        let invalid = InvalidInput(
            code: .invalidListen, message: "--listen must be HOST:PORT, e.g. 127.0.0.1:8080, got '\(text)'")
        guard let colon = text.lastIndex(of: ":") else { throw invalid }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw invalid
        }
        return (host, port)
    }

    /// A file path, `sqlite://PATH` or `sqlite:PATH`; or `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`.
    static func parseDatabase(_ text: String) throws(InvalidInput) -> Database {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            do {
                return .postgres(try PostgresStoreConfiguration(url: text))
            } catch {
                throw InvalidInput(code: .invalidDatabase, message: "--database: \(error.message)")
            }
        }
        var path = text
        for prefix in ["sqlite://", "sqlite:"] where path.hasPrefix(prefix) {
            path = String(path.dropFirst(prefix.count))
            break
        }
        guard !path.isEmpty, !path.contains("://") else {
            throw InvalidInput(
                code: .invalidDatabase,
                message:
                    "--database must be a SQLite file path, sqlite://PATH or postgres://USER@HOST/DATABASE, got '\(text)'"
            )
        }
        return .sqlite(path: path)
    }

    private static func seconds(_ value: Double, flag: String, range: ClosedRange<Double>) throws(InvalidInput)
        -> Duration
    {
        guard value.isFinite, range.contains(value) else {
            throw InvalidInput(
                code: .invalidTimeout, message: "--\(flag) must be \(range.lowerBound) to \(range.upperBound) seconds")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }
}
