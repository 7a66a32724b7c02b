import Foundation
import Hummingbird
import HummingbirdTesting
import Logging

@testable import AllocationService

/// gsmsd built in this process (`GSMSApplication.build`) on a fresh SQLite file, driven through
/// HummingbirdTesting's router client: for contract tests of headers, authentication and
/// bodies, which need no process, no port and no kill.
struct GSMSInProcess {
    let directory: TemporaryDirectory
    let configuration: ServiceConfiguration

    init(titles: Set<String> = ["1234"]) throws {
        directory = try TemporaryDirectory()
        let keyFile = directory.file("token.key")
        let secretFile = directory.file("agent.token")
        try Data(GSMSProcess.tokenKey).write(to: URL(fileURLWithPath: keyFile))
        try Data(GSMSProcess.fleetSecret.utf8).write(to: URL(fileURLWithPath: secretFile))
        configuration = ServiceConfiguration(
            database: .sqlite(path: directory.file("gsms.sqlite")), titles: titles, tokenKeyFile: keyFile,
            agentTokenFile: secretFile)
    }

    /// Builds gsmsd and runs `body` with a client of its router; the store is closed afterwards.
    func test<Value>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let assembly = try await GSMSApplication.build(
            configuration: configuration, logger: Logger(label: "gsmsd-test", factory: { _ in SwiftLogNoOpLogHandler() }))
        do {
            let value = try await assembly.application.test(.router, body)
            try await assembly.store.close()
            return value
        } catch {
            try? await assembly.store.close()
            throw error
        }
    }
}
