#if os(Linux)
import AllocationService
import Foundation
import SessionHostModel
import Testing

/// Static checks of the shipped systemd units in `systemd/` with the host's `systemd-analyze`
/// (package `systemd`). The behaviour under a running systemd (readiness, socket activation,
/// watchdog, hardening at run time) is covered by `scripts/systemd-test`.
@Suite("systemd unit files")
struct SystemdUnitFileTests {
    /// Highest accepted `systemd-analyze security` exposure (0 = locked down, 10 = unprotected).
    /// Measured 1.4 ("OK") for sessionhostd.service, 1.1 for gsmsd.service and 1.3 for the
    /// example game server with systemd 252; the margin absorbs scoring changes between systemd
    /// versions.
    static let maximumExposure = 2.0

    // MARK: - Helpers

    /// The repository root, from this file's location (Tests/SessionHostTests/…).
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var systemdDirectory: URL { repositoryRoot.appendingPathComponent("systemd") }

    /// The folder of the running test executable; SwiftPM builds `sessionhostd` and `gsmsd` next to it.
    static func binaryDirectory() throws -> URL {
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }

    struct Output {
        var status: Int32
        var text: String
    }

    /// Runs a command found on PATH; stdout and stderr together.
    static func run(_ arguments: [String]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["SYSTEMD_COLORS"] = "0"
        environment["SYSTEMD_PAGER"] = ""
        environment["LC_ALL"] = "C.UTF-8"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, text: String(decoding: data, as: UTF8.self))
    }

    /// A temporary copy of `systemd/` whose ExecStart= lines point at binaries that exist:
    /// the built `sessionhostd` and `gsmsd`, and the copied example game-server script.
    static func stagedUnits(agentBinary: String? = nil, serviceBinary: String? = nil) throws -> URL {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("sessionhost-units-\(UUID().uuidString)")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: systemdDirectory.path) {
            try fm.copyItem(at: systemdDirectory.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        let agent = try agentBinary ?? binaryDirectory().appendingPathComponent("sessionhostd").path
        let service = try serviceBinary ?? binaryDirectory().appendingPathComponent("gsmsd").path
        let script = dir.appendingPathComponent("example-game-server.sh").path
        try rewriteExecStart(
            in: dir.appendingPathComponent("sessionhostd.service"),
            from: "/usr/bin/sessionhostd", to: agent)
        try rewriteExecStart(
            in: dir.appendingPathComponent("gsmsd.service"),
            from: "/usr/bin/gsmsd", to: service)
        try rewriteExecStart(
            in: dir.appendingPathComponent("example-game-server.service"),
            from: "/usr/lib/sessionhost/example-game-server.sh", to: script)
        try rewriteExecStart(
            in: dir.appendingPathComponent("sessionhost-game@.service"),
            from: "/usr/lib/sessionhost/example-game-server.sh", to: script)
        return dir
    }

    static func rewriteExecStart(in file: URL, from old: String, to new: String) throws {
        let text = try String(contentsOf: file, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("ExecStart=") else { return String(line) }
            return line.replacingOccurrences(of: "ExecStart=\(old)", with: "ExecStart=\(new)")
        }
        let rewritten = lines.joined(separator: "\n")
        #expect(rewritten.contains("ExecStart=\(new)"), "no ExecStart=\(old) in \(file.lastPathComponent)")
        try rewritten.write(to: file, atomically: true, encoding: .utf8)
    }

    static func verify(_ dir: URL) throws -> Output {
        try run(
            ["systemd-analyze", "verify", "--man=no", "--recursive-errors=no"]
                + [
                    "sessionhostd.socket", "sessionhostd.service", "example-game-server.service",
                    "sessionhost-game@.service", "gsmsd.service",
                ]
                .map { dir.appendingPathComponent($0).path })
    }

    /// The overall exposure printed by `systemd-analyze security --offline=true UNIT-FILE`.
    static func exposure(of unitFile: URL) throws -> (score: Double, output: String) {
        let out = try run(["systemd-analyze", "security", "--offline=true", "--no-pager", unitFile.path])
        #expect(out.status == 0, "systemd-analyze security failed:\n\(out.text)")
        let marker = "Overall exposure level for "
        let line = try #require(
            out.text.split(separator: "\n").first { $0.contains(marker) },
            "no overall exposure in:\n\(out.text)")
        let afterColon = try #require(line.split(separator: ":").last)
        let number = try #require(afterColon.split(separator: " ").first)
        return (try #require(Double(number), "cannot parse \(line)"), out.text)
    }

    /// `Key=Value` assignments of a unit file, in order (comments skipped).
    static func assignments(_ file: String) throws -> [(key: String, value: String)] {
        let text = try String(contentsOf: systemdDirectory.appendingPathComponent(file), encoding: .utf8)
        return text.split(separator: "\n").compactMap { raw in
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.hasPrefix("#"), !line.hasPrefix(";"), let eq = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        }
    }

    static func value(_ key: String, in pairs: [(key: String, value: String)]) -> [String] {
        pairs.filter { $0.key == key }.map { $0.value }
    }

    // MARK: - systemd-analyze verify

    @Test("systemd-analyze verify accepts the socket, agent, example game-server, game template and gsmsd units")
    func verifyAcceptsUnits() throws {
        for name in ["sessionhostd", "gsmsd"] {
            let binary = try Self.binaryDirectory().appendingPathComponent(name)
            #expect(
                FileManager.default.isExecutableFile(atPath: binary.path),
                "the built \(name) is expected next to the test executable: \(binary.path)")
        }
        let dir = try Self.stagedUnits()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try Self.verify(dir)
        #expect(out.status == 0, "systemd-analyze verify failed:\n\(out.text)")
        let diagnostics = out.text.split(separator: "\n").filter {
            $0.contains("sessionhostd") || $0.contains("example-game-server") || $0.contains("sessionhost-game@")
                || $0.contains("gsmsd")
        }
        #expect(diagnostics.isEmpty, "systemd-analyze verify complained:\n\(out.text)")
    }

    @Test(
        "systemd-analyze verify rejects a unit whose ExecStart binary is missing",
        arguments: ["sessionhostd", "gsmsd"])
    func verifyDetectsMissingBinary(name: String) throws {
        let missing = "/nonexistent/sessionhost/\(name)"
        let dir =
            name == "gsmsd"
            ? try Self.stagedUnits(serviceBinary: missing) : try Self.stagedUnits(agentBinary: missing)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try Self.verify(dir)
        #expect(out.status != 0)
        #expect(out.text.contains(missing), "\(out.text)")
    }

    // MARK: - systemd-analyze security

    @Test("sessionhostd.service has a low exposure score")
    func agentExposure() throws {
        let (score, output) = try Self.exposure(
            of: Self.systemdDirectory.appendingPathComponent("sessionhostd.service"))
        #expect(score <= Self.maximumExposure, "exposure \(score) > \(Self.maximumExposure):\n\(output)")
        // The directives that matter most are in effect.
        for check in [
            "✓ NoNewPrivileges=", "✓ ProtectSystem=", "✓ ProtectHome=", "✓ PrivateTmp=",
            "✓ PrivateDevices=", "✓ SystemCallFilter=", "✓ SystemCallArchitectures=",
            "✓ MemoryDenyWriteExecute=", "✓ RestrictNamespaces=", "✓ User=/DynamicUser=",
        ] {
            #expect(output.contains(check), "missing \(check) in:\n\(output)")
        }
    }

    @Test("gsmsd.service has a low exposure score")
    func serviceExposure() throws {
        let (score, output) = try Self.exposure(of: Self.systemdDirectory.appendingPathComponent("gsmsd.service"))
        #expect(score <= Self.maximumExposure, "exposure \(score) > \(Self.maximumExposure):\n\(output)")
        for check in [
            "✓ NoNewPrivileges=", "✓ ProtectSystem=", "✓ ProtectHome=", "✓ PrivateTmp=",
            "✓ PrivateDevices=", "✓ PrivateUsers=", "✓ SystemCallFilter=", "✓ SystemCallArchitectures=",
            "✓ MemoryDenyWriteExecute=", "✓ RestrictNamespaces=", "✓ User=/DynamicUser=",
            "✓ CapabilityBoundingSet=~CAP_SYS_ADMIN", "✓ AmbientCapabilities=",
        ] {
            #expect(output.contains(check), "missing \(check) in:\n\(output)")
        }
    }

    @Test("example-game-server.service has a low exposure score")
    func gameServerExposure() throws {
        let (score, output) = try Self.exposure(
            of: Self.systemdDirectory.appendingPathComponent("example-game-server.service"))
        #expect(score <= Self.maximumExposure, "exposure \(score) > \(Self.maximumExposure):\n\(output)")
    }

    @Test("sessionhost-game@.service has a low exposure score")
    func gameTemplateExposure() throws {
        let (score, output) = try Self.exposure(
            of: Self.systemdDirectory.appendingPathComponent("sessionhost-game@.service"))
        #expect(score <= Self.maximumExposure, "exposure \(score) > \(Self.maximumExposure):\n\(output)")
    }

    // MARK: - The contract between the units and the agent

    @Test("sessionhostd.service: Type=notify, watchdog, socket activation, preserved runtime directory")
    func agentServiceContract() throws {
        let service = try Self.assignments("sessionhostd.service")
        #expect(Self.value("Type", in: service) == ["notify"])
        #expect(Self.value("NotifyAccess", in: service) == ["main"])
        #expect(
            Self.value("ExecStart", in: service) == [
                "/usr/bin/sessionhostd --config /etc/sessionhost/sessionhostd.json"
            ])
        #expect(Self.value("User", in: service) == ["sessionhost"])
        #expect(Self.value("Group", in: service) == ["sessionhost"])
        #expect(Self.value("Requires", in: service) == ["sessionhostd.socket"])
        #expect(Self.value("After", in: service).contains { $0.split(separator: " ").contains("sessionhostd.socket") })
        #expect(Self.value("WatchdogSec", in: service) == ["30s"])
        #expect(Self.value("Restart", in: service) == ["on-failure"])
        #expect(Self.value("StateDirectory", in: service) == ["sessionhost"])
        #expect(Self.value("StateDirectoryMode", in: service) == ["0750"])
        // The socket lives in /run/sessionhost: a RuntimeDirectory= of the service must survive
        // stop and restart, or the socket file of sessionhostd.socket would be deleted.
        if !Self.value("RuntimeDirectory", in: service).isEmpty {
            #expect(Self.value("RuntimeDirectoryPreserve", in: service) == ["yes"])
        }
        #expect(Self.value("UMask", in: service) == ["0027"])
        #expect(Self.value("CapabilityBoundingSet", in: service) == [""])
        #expect(Self.value("ProtectSystem", in: service) == ["strict"])
        #expect(Self.value("RestrictAddressFamilies", in: service) == ["AF_UNIX AF_INET AF_INET6"])
        // SO_PEERCRED must see real uids and gids of game servers: no user namespace.
        #expect(Self.value("PrivateUsers", in: service).allSatisfy { $0 == "no" || $0 == "false" })
    }

    @Test("gsmsd.service: Type=notify, dedicated user, state and configuration directories, hardening")
    func serviceContract() throws {
        let service = try Self.assignments("gsmsd.service")
        #expect(Self.value("Type", in: service) == ["notify"])
        #expect(Self.value("NotifyAccess", in: service) == ["main"])
        #expect(Self.value("ExecStart", in: service) == ["/usr/bin/gsmsd --config /etc/gsms/gsmsd.json"])
        // The user comes from gsms.sysusers, so that the secrets can be group-readable for it.
        #expect(Self.value("User", in: service) == ["gsms"])
        #expect(Self.value("Group", in: service) == ["gsms"])
        #expect(Self.value("DynamicUser", in: service).allSatisfy { $0 == "no" || $0 == "false" })
        #expect(Self.value("Restart", in: service) == ["on-failure"])
        // A graceful stop waits for agents' hand-off long polls (30 s by default).
        #expect(Self.value("TimeoutStopSec", in: service) == ["45s"])
        // gsmsd sends no WATCHDOG=1: a WatchdogSec= would kill a healthy service.
        #expect(Self.value("WatchdogSec", in: service).isEmpty)
        // The default database is $STATE_DIRECTORY/gsms.sqlite: /var/lib/gsms.
        #expect(Self.value("StateDirectory", in: service) == ["gsms"])
        #expect(Self.value("StateDirectoryMode", in: service) == ["0750"])
        #expect(Self.value("ConfigurationDirectory", in: service) == ["gsms"])
        #expect(Self.value("ConfigurationDirectoryMode", in: service) == ["0755"])
        #expect(Self.value("UMask", in: service) == ["0077"])
        #expect(Self.value("CapabilityBoundingSet", in: service) == [""])
        #expect(Self.value("AmbientCapabilities", in: service) == [""])
        #expect(Self.value("NoNewPrivileges", in: service) == ["yes"])
        #expect(Self.value("ProtectSystem", in: service) == ["strict"])
        #expect(Self.value("PrivateTmp", in: service) == ["yes"])
        // It must bind its TCP port and reach journald and the notify socket.
        #expect(Self.value("RestrictAddressFamilies", in: service) == ["AF_UNIX AF_INET AF_INET6"])
        #expect(Self.value("PrivateNetwork", in: service).allSatisfy { $0 == "no" || $0 == "false" })
        #expect(Self.value("IPAddressDeny", in: service).isEmpty)
        #expect(Self.value("SystemCallFilter", in: service) == ["@system-service", "~@privileged @resources"])
        // Nothing but the state directory (and the private /tmp) is writable; no extra paths.
        #expect(Self.value("ReadWritePaths", in: service).isEmpty)
        #expect(Self.value("WantedBy", in: service) == ["multi-user.target"])
    }

    @Test("sessionhostd.socket: the agent socket path, owner and mode")
    func socketContract() throws {
        let socket = try Self.assignments("sessionhostd.socket")
        #expect(Self.value("ListenStream", in: socket) == ["/run/sessionhost/agent.sock"])
        #expect(Self.value("SocketUser", in: socket) == ["sessionhost"])
        #expect(Self.value("SocketGroup", in: socket) == ["sessionhost"])
        #expect(Self.value("SocketMode", in: socket) == ["0660"])
        #expect(Self.value("DirectoryMode", in: socket) == ["0755"])
        #expect(Self.value("WantedBy", in: socket) == ["sockets.target"])
    }

    @Test("example-game-server.service: ordered after the agent, in group sessionhost")
    func gameServerContract() throws {
        let unit = try Self.assignments("example-game-server.service")
        let after = Self.value("After", in: unit).flatMap { $0.split(separator: " ").map(String.init) }
        let wants = Self.value("Wants", in: unit).flatMap { $0.split(separator: " ").map(String.init) }
        for name in ["sessionhostd.socket", "sessionhostd.service"] {
            #expect(after.contains(name))
            #expect(wants.contains(name))
        }
        #expect(Self.value("SupplementaryGroups", in: unit) == ["sessionhost"])
        #expect(Self.value("Environment", in: unit).contains("SESSIONHOST_SOCKET=/run/sessionhost/agent.sock"))
        #expect(Self.value("ExecStart", in: unit) == ["/usr/lib/sessionhost/example-game-server.sh"])
    }

    @Test("sessionhost-game@.service: one game server per slot, on the slot's own socket, as hardened as the example")
    func gameTemplateContract() throws {
        let template = try Self.assignments("sessionhost-game@.service")
        let example = try Self.assignments("example-game-server.service")
        let after = Self.value("After", in: template).flatMap { $0.split(separator: " ").map(String.init) }
        let wants = Self.value("Wants", in: template).flatMap { $0.split(separator: " ").map(String.init) }
        for name in ["sessionhostd.socket", "sessionhostd.service"] {
            #expect(after.contains(name))
            #expect(wants.contains(name))
        }
        #expect(Self.value("SupplementaryGroups", in: template) == ["sessionhost"])
        // Slot K's socket, as the agent names it beside its main socket.
        #expect(SlotSockets.path(of: 3, beside: "/run/sessionhost/agent.sock") == "/run/sessionhost/agent-3.sock")
        // The main (socket-activated) socket: the agent maps instance K to slot K.
        #expect(Self.value("Environment", in: template).contains("SESSIONHOST_SOCKET=/run/sessionhost/agent.sock"))
        #expect(Self.value("ExecStart", in: template) == ["/usr/lib/sessionhost/example-game-server.sh"])
        // The same service settings and hardening as the example, but the socket and the description.
        let differing: Set<String> = ["Description", "Environment"]
        let templateRest = template.filter { !differing.contains($0.key) }.map { "\($0.key)=\($0.value)" }
        let exampleRest = example.filter { !differing.contains($0.key) }.map { "\($0.key)=\($0.value)" }
        #expect(templateRest == exampleRest)
        let text = try String(
            contentsOf: Self.systemdDirectory.appendingPathComponent("sessionhost-game@.service"), encoding: .utf8)
        for needle in [
            "--slots", "sessionhost-game@{1..", "GSDK_CONFIG_FILE=/run/sessionhost/gsdkConfig-%i.json",
        ] {
            #expect(text.contains(needle), "the comments do not mention \(needle)")
        }
    }

    @Test("the example game-server script is valid POSIX sh and uses the agent API")
    func gameServerScript() throws {
        let path = Self.systemdDirectory.appendingPathComponent("example-game-server.sh").path
        #expect(FileManager.default.isExecutableFile(atPath: path))
        let syntax = try Self.run(["sh", "-n", path])
        #expect(syntax.status == 0, "sh -n: \(syntax.text)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("#!/bin/sh\n"))
        for needle in [
            "/v1/ready", "/v1/heartbeat", "/v1/session?wait=", "/v1/session/end",
            "--unix-socket", "\"health\":\"Healthy\"",
        ] {
            #expect(text.contains(needle), "script does not use \(needle)")
        }
        #expect(!text.contains("jq "))
    }

    @Test("the sysusers entry creates user and group sessionhost")
    func sysusers() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sessionhost-sysusers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("etc"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let out = try Self.run([
            "systemd-sysusers", "--dry-run", "--root=\(root.path)",
            Self.systemdDirectory.appendingPathComponent("sessionhost.sysusers").path,
        ])
        #expect(out.status == 0, "\(out.text)")
        #expect(out.text.contains("Creating group 'sessionhost'"), "\(out.text)")
        #expect(out.text.contains("Creating user 'sessionhost'"), "\(out.text)")
        let text = try String(
            contentsOf: Self.systemdDirectory.appendingPathComponent("sessionhost.sysusers"), encoding: .utf8)
        #expect(text.contains("/var/lib/sessionhost"))
        #expect(text.contains("nologin"))
    }

    @Test("the sysusers entry creates user and group gsms")
    func serviceSysusers() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gsms-sysusers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("etc"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let out = try Self.run([
            "systemd-sysusers", "--dry-run", "--root=\(root.path)",
            Self.systemdDirectory.appendingPathComponent("gsms.sysusers").path,
        ])
        #expect(out.status == 0, "\(out.text)")
        #expect(out.text.contains("Creating group 'gsms'"), "\(out.text)")
        #expect(out.text.contains("Creating user 'gsms'"), "\(out.text)")
        let text = try String(
            contentsOf: Self.systemdDirectory.appendingPathComponent("gsms.sysusers"), encoding: .utf8)
        #expect(text.contains("/var/lib/gsms"))
        #expect(text.contains("nologin"))
    }

    @Test("the example gsmsd config is accepted by gsmsd and names the secrets in /etc/gsms")
    func serviceExampleConfig() throws {
        let path = Self.systemdDirectory.appendingPathComponent("gsmsd.json").path
        // The same loader gsmsd uses: unknown keys and wrong types are refused.
        let file = try ConfigFile.load(ServiceConfigFile.self, path: path)
        #expect(file.listen == "0.0.0.0:8080")
        #expect(file.title == ["1234ABCD"])
        #expect(file.tokenKeyFile == "/etc/gsms/token.key")
        #expect(file.agentTokenFile == "/etc/gsms/agent.token")
        #expect(file.handoffTimeout == 5)
        #expect(file.hostTimeout == 15)
        #expect(file.queueTimeout == 30)
        // The database is left to the default, which under the unit is the state directory.
        #expect(file.database == nil)
        let configuration = try ServiceConfiguration.resolve(
            options: try ServiceOptions.parse([]), file: file, environment: ["STATE_DIRECTORY": "/var/lib/gsms"])
        #expect(configuration.listenHost == "0.0.0.0")
        #expect(configuration.listenPort == 8080)
        #expect(configuration.database == .sqlite(path: "/var/lib/gsms/gsms.sqlite"))
        #expect(configuration.titles == ["1234ABCD"])
        #expect(configuration.handoffTimeout == .seconds(5))
        #expect(configuration.hostTimeout == .seconds(15))
        #expect(configuration.queueTimeout == .seconds(30))
    }

    @Test("the example agent config is JSON with the documented keys")
    func exampleConfig() throws {
        let data = try Data(contentsOf: Self.systemdDirectory.appendingPathComponent("sessionhostd.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["title-id"] as? String == "1234ABCD")
        #expect(object["region"] as? String == "WestUS")
        #expect(object["port"] as? [String] == ["game:udp:7777:30000"])
        #expect((object["health-timeout"] as? NSNumber)?.intValue == 30)
        let known: Set<String> = [
            "config", "socket", "state-dir", "title-id", "host-id", "region", "hostname", "port",
            "secure-context", "sandbox-id", "cloud-game-id", "game-mode-id",
            "health-timeout", "allow-user", "allow-group", "log-level",
            "control-plane", "agent-token-file",
        ]
        #expect(Set(object.keys).isSubset(of: known), "unknown keys: \(Set(object.keys).subtracting(known))")
    }
}
#endif
