import Foundation
import SessionHostSDK
import Testing

/// Real full (`ENOSPC`) and read-only (`EROFS`) filesystems under the running daemons: a small
/// tmpfs holds the agent's state directory or gsmsd's database, and is filled up or remounted
/// read-only mid-service. Nothing acknowledged is lost, the error is clear, and service resumes
/// once the filesystem is fixed.
@Suite("full and read-only disks", .serialized)
struct DiskFaultTests {
    static let nextSessionId = "4536d3e6-e85d-4f47-b898-9617d19dabcd"

    /// gsmsd, vm-1 with its state on `filesystem` (StandingBy longest, so offered first) and
    /// vm-2 on the ordinary disk.
    static func fleet(stateOn filesystem: ScratchFilesystem) async throws -> (
        GSMSProcess, AgentProcess, AgentClient, AgentProcess
    ) {
        let gsms = try await GSMSProcess(arguments: ["--handoff-timeout", "1"])
        let first = try await EndToEndHandoffTests.agent(gsms, hostId: "vm-1", stateDirectory: filesystem.path)
        let firstGame = AgentClient(socketPath: first.socketPath)
        _ = try await firstGame.ready()
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy")
        #expect(FileManager.default.fileExists(atPath: filesystem.path + "/state.json"))
        let second = try await EndToEndHandoffTests.agent(gsms, hostId: "vm-2")
        _ = try await AgentClient(socketPath: second.socketPath).ready()
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-2", state: "StandingBy")
        return (gsms, first, firstGame, second)
    }

    /// Once the filesystem is fixed, vm-1 is StandingBy in gsmsd again and takes the next
    /// session; then everything stops.
    static func expectServedAgain(
        _ gsms: GSMSProcess, _ first: AgentProcess, _ firstGame: AgentClient, _ second: AgentProcess,
        _ filesystem: ScratchFilesystem
    ) async throws {
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy", timeout: .seconds(30))
        let again = try await gsms.allocate(["sessionId": Self.nextSessionId])
        #expect(again.json["sessionHostId"] as? String == "vm-1", "\(again)")
        #expect(try await firstGame.session(wait: .seconds(10)).sessionId == Self.nextSessionId)
        try await first.stop()
        try await second.stop()
        try await gsms.stop()
        try await filesystem.unmount()
    }

    /// The state file is whole and says StandingBy without a session.
    static func expectIntactState(_ directory: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/state.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["state"] as? String == "StandingBy", "\(object)")
        #expect(object["session"] == nil, "\(object)")
    }

    @Test(
        "the agent's state directory full: the hand-off goes to the next host, the state file is intact, and the host serves again once space is freed"
    )
    func agentDiskFull() async throws {
        let filesystem = try await ScratchFilesystem(kilobytes: 256)
        let (gsms, first, firstGame, second) = try await Self.fleet(stateOn: filesystem)

        try await filesystem.fill()
        let answer = try await gsms.allocate(["sessionId": EndToEndHandoffTests.sessionId, "sessionCookie": "kept"])
        #expect(answer.status == 200, "\(answer)")
        #expect(answer.json["sessionHostId"] as? String == "vm-2")
        #expect(try await AgentClient(socketPath: second.socketPath).session().sessionCookie == "kept")
        #expect(try await firstGame.session().sessionId == nil)
        #expect(first.log.contains("No space left on device"), "\(first.log)")
        try Self.expectIntactState(filesystem.path)

        try filesystem.free()
        try await Self.expectServedAgain(gsms, first, firstGame, second, filesystem)
    }

    @Test(
        "the agent's state directory read-only: hand-offs go elsewhere, a restart is refused with a clear error, and all is well once writable again"
    )
    func agentDiskReadOnly() async throws {
        let filesystem = try await ScratchFilesystem(kilobytes: 256)
        let (gsms, first, firstGame, second) = try await Self.fleet(stateOn: filesystem)

        try await filesystem.remount(readOnly: true)
        let answer = try await gsms.allocate(["sessionId": EndToEndHandoffTests.sessionId])
        #expect(answer.status == 200, "\(answer)")
        #expect(answer.json["sessionHostId"] as? String == "vm-2")
        #expect(try await firstGame.session().sessionId == nil)
        #expect(first.log.contains("Read-only file system"), "\(first.log)")

        // A restart while read-only: the agent refuses to start and says why (systemd restarts it).
        #expect(try await first.stop() == 0)
        let status = try await first.restartExpectingExit()
        #expect(status != 0)
        #expect(first.log.contains("is not writable: Read-only file system"), "\(first.log)")
        try Self.expectIntactState(filesystem.path)

        try await filesystem.remount(readOnly: false)
        try await first.restart()
        _ = try await firstGame.ready()
        try await Self.expectServedAgain(gsms, first, firstGame, second, filesystem)
    }

    @Test(
        "gsmsd's database on a full disk, then a read-only one at start: 503 StoreUnavailable while full, a clear refusal to start while read-only, nothing half-written, service resumes"
    )
    func gsmsdDiskFullAndReadOnly() async throws {
        let filesystem = try await ScratchFilesystem(kilobytes: 8192)
        let database = filesystem.path + "/gsms.sqlite"
        let gsms = try await GSMSProcess(arguments: ["--database", database])
        try await gsms.register(host: "h1")
        try await gsms.register(host: "h2")
        #expect(FileManager.default.fileExists(atPath: database))

        // Full while serving: writes are refused with 503, reads and the daemon carry on.
        try await filesystem.fill()
        let refused = try await gsms.allocate(["sessionId": EndToEndHandoffTests.sessionId])
        #expect(refused.status == 503, "\(refused)")
        #expect(refused.json["code"] as? String == "StoreUnavailable", "\(refused)")
        #expect(refused.header("Retry-After") != nil)
        #expect(try await gsms.hostStatus("h1").json["state"] as? String == "StandingBy")
        try filesystem.free()
        let first = gsms.acknowledgeNextHandoff(host: "h1")
        #expect(try await gsms.allocate(["sessionId": EndToEndHandoffTests.sessionId]).status == 200)
        #expect(try await first.value?.sessionId == EndToEndHandoffTests.sessionId)

        // Read-only when gsmsd starts (a filesystem the kernel remounted read-only after errors):
        // it refuses to start and says why, rather than serving what it cannot record.
        let port = gsms.client.port
        try await gsms.stop()
        try await filesystem.remount(readOnly: true)
        let status = try await gsms.daemon.restartExpectingExit()
        #expect(status != 0)
        #expect(gsms.log.contains("Read-only file system"), "\(gsms.log)")
        try await filesystem.remount(readOnly: false)
        try await gsms.restart(onPort: port)
        let second = gsms.acknowledgeNextHandoff(host: "h2")
        #expect(try await gsms.allocate(["sessionId": Self.nextSessionId]).status == 200)
        #expect(try await second.value?.sessionId == Self.nextSessionId)
        try await gsms.stop()

        // The file is consistent and holds both sessions.
        let check = try await ProcessRun.run(
            "/usr/bin/python3",
            [
                "-c",
                """
                import sqlite3, sys
                db = sqlite3.connect(sys.argv[1])
                assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                print(db.execute("SELECT COUNT(*) FROM sessions WHERE state = 'Active'").fetchone()[0])
                """, database,
            ], in: filesystem.directory)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
        try await filesystem.unmount()
    }
}
