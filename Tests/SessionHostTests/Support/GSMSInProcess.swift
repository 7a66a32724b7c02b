import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import SessionHostLogging
import SessionHostModel
import Synchronization

@testable import AllocationService

/// gsmsd built in this process (`GSMSApplication.build`) on a fresh SQLite file, driven through
/// HummingbirdTesting's router client: for contract tests of statuses, headers, authentication,
/// validation and bodies, which need no process, no port and no kill.
struct GSMSInProcess {
    let directory: TemporaryDirectory
    let configuration: ServiceConfiguration
    /// What gsmsd logs (info and above), in the logfmt lines it writes to stderr.
    let log = LogLines()
    /// With a clock, gsmsd reads the time from it (its `wallClock` too); otherwise the system's.
    let clock: ManualClock?

    /// gsmsd subscribed to `titles`; `configure` changes settings (timeouts) as flags would.
    init(
        titles: Set<String> = ["1234"], clock: ManualClock? = nil,
        configure: (inout ServiceConfiguration) -> Void = { _ in }
    ) throws {
        self.clock = clock
        directory = try TemporaryDirectory()
        let keyFile = directory.file("token.key")
        let secretFile = directory.file("agent.token")
        try Data(GSMSProcess.tokenKey).write(to: URL(fileURLWithPath: keyFile))
        try Data(GSMSProcess.fleetSecret.utf8).write(to: URL(fileURLWithPath: secretFile))
        var configuration = ServiceConfiguration(
            database: .sqlite(path: directory.file("gsms.sqlite")), titles: titles, tokenKeyFile: keyFile,
            agentTokenFile: secretFile)
        configure(&configuration)
        self.configuration = configuration
    }

    /// gsmsd put together on this configuration and clock, not running; with `live`, listening
    /// on an ephemeral port of 127.0.0.1.
    private func build(live: Bool = false) async throws -> GSMSApplication.Assembly {
        var configuration = configuration
        if live {
            configuration.listenHost = "127.0.0.1"
            configuration.listenPort = 0
        }
        return try await GSMSApplication.build(
            configuration: configuration, logger: Logger(label: "gsmsd-test", factory: { [log] _ in log.handler() }),
            clock: clock ?? ContinuousClock() as any Clock<Duration>, wallClock: clock?.wallClock ?? .system)
    }

    /// Builds gsmsd and runs `body` with a client of its router; the store is closed afterwards.
    func test<Value>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let assembly = try await build()
        do {
            let value = try await assembly.application.test(.router, body)
            try await assembly.store.close()
            return value
        } catch {
            try? await assembly.store.close()
            throw error
        }
    }

    /// Builds gsmsd with its background services (the inventory sweeper) running, and runs
    /// `body` with a driver that speaks like `GSMSProcess` (same helpers, same answers). With
    /// `live`, gsmsd listens on an ephemeral port of 127.0.0.1 (`Driver.port`) for clients that
    /// speak HTTP themselves (`TitleClient`); otherwise requests go straight to its router.
    func run<Value>(live: Bool = false, _ body: @Sendable (Driver) async throws -> Value) async throws -> Value {
        let assembly = try await build(live: live)
        var application = assembly.application
        application.addServices(assembly.backgroundServices.map(\.service))
        do {
            let value = try await application.test(live ? .live : .router) { [self] client in
                try await body(
                    Driver(client: client, log: log, directory: directory, keyFile: configuration.tokenKeyFile))
            }
            try await assembly.store.close()
            return value
        } catch {
            try? await assembly.store.close()
            throw error
        }
    }

    /// What the end-to-end tests do with a `GSMSProcess`, against the router in this process.
    struct Driver: SimulatedAgentCalls {
        let client: Client
        /// The port gsmsd listens on (`run(live: true)` only).
        let port: Int?
        /// gsmsd's directory (its database, key and secret files).
        let directory: TemporaryDirectory
        /// The title-token key file gsmsd verifies with.
        let keyFile: String
        private let logLines: LogLines

        init(client: any TestClientProtocol, log: LogLines, directory: TemporaryDirectory, keyFile: String) {
            self.client = Client(client: client)
            self.port = client.port
            self.logLines = log
            self.directory = directory
            self.keyFile = keyFile
        }

        /// What gsmsd logged so far, one logfmt line per record.
        var log: String { logLines.text }

        /// `send` like `HTTPTestClient`, answering `HTTPTestClient.Answer`.
        struct Client: Sendable {
            let client: any TestClientProtocol

            func send(
                _ method: NIOHTTP1.HTTPMethod, _ path: String, headers extra: [(String, String)] = [],
                body: [UInt8]? = nil
            ) async throws -> HTTPTestClient.Answer {
                var headers = HTTPFields()
                for (name, value) in extra {
                    guard let field = HTTPField.Name(name) else { throw TestFailure("bad header name \(name)") }
                    headers.append(HTTPField(name: field, value: value))
                }
                if body != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
                let answer = try await client.execute(
                    uri: path, method: HTTPRequest.Method(method.rawValue)!, headers: headers,
                    body: body.map { ByteBuffer(bytes: $0) })
                return HTTPTestClient.Answer(
                    status: Int(answer.status.code), headers: answer.headers.map { ($0.name.rawName, $0.value) },
                    body: Array(answer.body.readableBytesView))
            }

            /// Sends a JSON value as the body.
            func send(
                _ method: NIOHTTP1.HTTPMethod, _ path: String, headers: [(String, String)] = [], json: Any
            ) async throws -> HTTPTestClient.Answer {
                let data = try JSONSerialization.data(withJSONObject: json)
                return try await send(method, path, headers: headers, body: [UInt8](data))
            }
        }

        // MARK: Title side

        /// `POST /titles/{title}/sessionhosts` with a token covering the title.
        func allocate(title: String = "1234", _ body: [String: Any]) async throws -> HTTPTestClient.Answer {
            try await client.send(
                .POST, "/titles/\(title)/sessionhosts", headers: [try await GSMSProcess.authorization([title])],
                json: body)
        }

        /// `POST /titles/{title}/clusters` with the contract version header.
        func cluster(title: String = "1234", _ body: [String: Any]) async throws -> HTTPTestClient.Answer {
            try await client.send(
                .POST, "/titles/\(title)/clusters",
                headers: [try await GSMSProcess.authorization([title]), ("x-xbl-contract-version", "1")], json: body)
        }

        // MARK: Agent side

        /// What the simulated agent of `host` sends.
        func agentHeaders(_ host: String) -> [(String, String)] {
            GSMSProcess.simulatedAgentHeaders(host)
        }
    }
}

/// Log lines kept in memory: what a `Logger` of `handler()` writes.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])

    /// A handler writing logfmt lines (as gsmsd does on stderr) of info and above here.
    func handler() -> LogfmtLogHandler {
        LogfmtLogHandler(logLevel: .info, write: { [self] line in lines.withLock { $0.append(line) } })
    }

    var text: String { lines.withLock { $0.joined(separator: "\n") } }
}
