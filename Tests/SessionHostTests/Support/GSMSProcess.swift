import Foundation
import SessionHostModel
import TitleTokens

/// A real `gsmsd` for end-to-end tests: a fresh SQLite file (or the given `--database`, e.g. a
/// PostgreSQL URL shared by several instances), a title-token key, a fleet secret, an ephemeral
/// port (read from its `STATUS=Listening on …` notification) and a log file.
final class GSMSProcess: SimulatedAgentCalls, @unchecked Sendable {
    static let tokenKey = Array("sessionhost-test-title-token-key-0123456789".utf8)
    static let fleetSecret = "sessionhost-test-fleet-secret-0123456789abcdef"

    let directory: TemporaryDirectory
    let daemon: AgentProcess
    private let clientLock = NSLock()
    private var currentClient: HTTPTestClient
    /// A client for the current port (it changes across restarts).
    var client: HTTPTestClient {
        get { clientLock.withLock { currentClient } }
        set { clientLock.withLock { currentClient = newValue } }
    }
    let databasePath: String
    let keyFile: String

    /// Starts gsmsd with titles `titles` and extra flags, and waits until it serves.
    init(titles: [String] = ["1234", "5678"], database: String? = nil, arguments extra: [String] = []) async throws {
        directory = try TemporaryDirectory()
        keyFile = directory.file("token.key")
        let secretFile = directory.file("agent.token")
        try Data(Self.tokenKey + [UInt8(ascii: "\n")]).write(to: URL(fileURLWithPath: keyFile))
        try Data((Self.fleetSecret + "\n").utf8).write(to: URL(fileURLWithPath: secretFile))
        databasePath = database ?? directory.file("gsms.sqlite")
        var arguments = [
            "--listen", "127.0.0.1:0", "--database", databasePath,
            "--token-key-file", keyFile, "--agent-token-file", secretFile,
        ]
        for title in titles { arguments += ["--title", title] }
        daemon = try AgentProcess(wrapping: Binaries.gsmsd, arguments: arguments + extra, directory: directory)
        currentClient = HTTPTestClient(host: "127.0.0.1", port: 0)
        client = HTTPTestClient(host: "127.0.0.1", port: try await waitForPort())
    }

    private func waitForPort() async throws -> Int {
        try await daemon.waitForReady()
        let status = try await daemon.waitForStatus(containing: "Listening on")
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("STATUS=") }),
            let port = line.split(separator: ":").last.flatMap({ Int($0) })
        else { throw TestFailure("no port in \(status)") }
        return port
    }

    /// SIGKILLs gsmsd and starts it again on the same database (on a new port, or on the same
    /// one when agents were told it).
    func killAndRestart(keepPort: Bool = false) async throws {
        let port = client.port
        _ = try await daemon.stop(signal: SIGKILL)
        if keepPort {
            try await daemon.restart(replacing: ("--listen", "127.0.0.1:\(port)"))
        } else {
            try await daemon.restart()
        }
        client = HTTPTestClient(host: "127.0.0.1", port: try await waitForPort())
    }

    /// Starts gsmsd again (after `stop`) on a given port, e.g. the one agents were told.
    func restart(onPort port: Int) async throws {
        try await daemon.restart(replacing: ("--listen", "127.0.0.1:\(port)"))
        client = HTTPTestClient(host: "127.0.0.1", port: try await waitForPort())
    }

    var log: String { daemon.log }

    // MARK: Title side

    /// A title token for `titles`, signed with the service's key (or another key).
    static func token(titles: [String], ttl: Int64 = 600, key: [UInt8] = tokenKey) async throws -> String {
        let authority = await TitleTokenAuthority(key: try TitleTokenKey(bytes: key))
        return try await authority.mint(titles: titles, subject: "tests", ttl: .seconds(ttl), now: Date())
    }

    /// The `Authorization` header for a token covering `titles`.
    static func authorization(_ titles: [String]) async throws -> (String, String) {
        ("Authorization", "XBL3.0 x=-;" + (try await token(titles: titles)))
    }

    /// `POST /titles/{title}/sessionhosts` with a token covering the title.
    func allocate(title: String = "1234", _ body: [String: Any]) async throws -> HTTPTestClient.Answer {
        try await client.send(
            .POST, "/titles/\(title)/sessionhosts", headers: [try await Self.authorization([title])], json: body)
    }

    /// `POST /titles/{title}/clusters` with the contract version header.
    func cluster(title: String = "1234", _ body: [String: Any]) async throws -> HTTPTestClient.Answer {
        try await client.send(
            .POST, "/titles/\(title)/clusters",
            headers: [try await Self.authorization([title]), ("x-xbl-contract-version", "1")], json: body)
    }

    // MARK: Agent side

    static var fleetHeader: (String, String) { ("Authorization", "Bearer " + fleetSecret) }

    /// The host key a simulated agent of `host` presents: one per host id, stable across calls.
    static func hostKey(_ host: String) -> String {
        let base = "testkey_" + host.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        return String((base + String(repeating: "x", count: 43)).prefix(max(43, base.count)))
    }

    /// The fleet secret and the host's key: what an agent of `host` sends.
    static func simulatedAgentHeaders(_ host: String) -> [(String, String)] {
        [fleetHeader, ("SessionHost-Key", hostKey(host))]
    }

    private let keysLock = NSLock()
    private var realAgentKeys: [String: String] = [:]

    /// From now on, calls for `hostId` present the key of the real agent whose state directory is
    /// `stateDirectory` (its `host-key` file) instead of the simulated agent's.
    func useHostKey(in stateDirectory: String, hostId: String) throws {
        let text = try String(contentsOfFile: stateDirectory + "/host-key", encoding: .utf8)
        keysLock.withLock { realAgentKeys[hostId] = text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// What the agent of `host` sends: a real agent's key when one was adopted, else the simulated one's.
    func agentHeaders(_ host: String) -> [(String, String)] {
        let key = keysLock.withLock { realAgentKeys[host] } ?? Self.hostKey(host)
        return [Self.fleetHeader, ("SessionHost-Key", key)]
    }

    func stop() async throws {
        _ = try await daemon.stop()
    }
}
