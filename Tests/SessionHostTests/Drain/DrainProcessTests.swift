import ArgumentParser
import Foundation
import Logging
@testable import SessionHostAgent
@testable import SessionHostCLI
import SessionHostModel
import SessionHostSDK
import Testing

/// A real sessionhostd: the drain survives SIGKILL, `--on-drained` runs once per drain (not again
/// after a restart), and `sessionhostctl drain` drives it.
@Suite("Drain: a real agent process", .serialized)
struct DrainProcessTests {
    @Test("a drain is kept across a SIGKILL restart; a restart neither starts nor ends one")
    func durableAcrossKill() async throws {
        let agent = try await AgentProcess.started(arguments: ["--title-id", "1234ABCD", "--health-timeout", "0"])
        let client = AgentClient(socketPath: agent.socketPath)
        #expect(try await client.host().drain == nil)
        try await agent.stop()
        try await agent.restart()
        #expect(try await client.host().drain == nil, "a restart never starts a drain")

        let host = try await client.drain(DrainCommandRequest(deadlineSeconds: 900, reason: "new kernel"))
        let notice = try #require(host.drain)
        #expect(notice.source == .local)
        try await agent.waitForStatus(containing: "Drained: the slot is idle; the VM can be removed")

        try await agent.stop(signal: SIGKILL)
        try await agent.restart()
        #expect(try await client.host().drain == notice, "\(agent.log)")
        try await agent.waitForStatus(containing: "Drained")
        // SIGTERM does not drain either way: the drain stays as it was.
        try await agent.stop()
        try await agent.restart()
        #expect(try await client.host().drain == notice)
        try await agent.stop()
    }

    @Test(
        "--on-drained runs once, when the last session ends, with the VM id and the drain in its environment; not again after a restart"
    )
    func onDrainedRunsOnce() async throws {
        let directory = try TemporaryDirectory()
        let output = directory.file("drained.txt")
        let command =
            #"echo "$SESSIONHOST_VM_ID $SESSIONHOST_DRAIN_SOURCE $SESSIONHOST_DRAIN_DEADLINE" >> "# + output
        let agent = try await AgentProcess.started(arguments: [
            "--title-id", "1234ABCD", "--slots", "2", "--port", "game:udp:7777:30000", "--health-timeout", "0",
            "--vm-id", "vm-17", "--on-drained", command,
        ])
        let slot1 = AgentClient(socketPath: SlotSockets.path(of: 1, beside: agent.socketPath))
        _ = try await slot1.ready()
        _ = try await slot1.allocateLocally(sessionId: AgentFixture.sessionId, sessionCookie: nil)

        let host = try await AgentClient(socketPath: agent.socketPath).drain(DrainCommandRequest(deadlineSeconds: 600))
        let notice = try #require(host.drain)
        try await agent.waitForStatus(containing: "Draining until \(notice.deadline)")
        #expect(!FileManager.default.fileExists(atPath: output), "slot 1 still holds its session")

        _ = try await slot1.endSession()
        try await agent.waitForStatus(containing: "Drained: all 2 slots idle; the VM can be removed")
        try await agent.waitForFile(output)
        try await Deadline.waitUntil("--on-drained's exit logged") { agent.log.contains("--on-drained exited 0") }
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "vm-17 local \(notice.deadline)\n")

        try await agent.stop(signal: SIGKILL)
        try await agent.restart()
        try await agent.waitForStatus(containing: "Drained")
        try await Deadline.waitUntil("the agent saying --on-drained already ran") {
            agent.log.contains("--on-drained already ran for this drain")
        }
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "vm-17 local \(notice.deadline)\n")
        try await agent.stop()
    }

    @Test(
        "sessionhostctl drain: the deadline in words, --json, sessionhostctl host shows the drain; bad values are usage errors"
    )
    func cli() async throws {
        let agent = try await AgentProcess.started(arguments: ["--title-id", "1234ABCD", "--health-timeout", "0"])
        let drained = try await ProcessRun.run(
            Binaries.sessionhostctl,
            ["drain", "--socket", agent.socketPath, "--deadline", "1200", "--reason", "kernel upgrade"],
            in: agent.directory)
        #expect(drained.status == 0, "\(drained.stderr)")
        #expect(drained.stdout.contains("The VM is draining: it takes no new session."), "\(drained.stdout)")
        #expect(drained.stdout.contains("(in 20 minutes)"), "\(drained.stdout)")
        #expect(drained.stdout.contains("Reason: kernel upgrade"), "\(drained.stdout)")

        let json = try await ProcessRun.run(
            Binaries.sessionhostctl, ["drain", "--socket", agent.socketPath, "--json"], in: agent.directory)
        #expect(json.status == 0)
        let info = try JSONDecoder().decode(HostInfo.self, from: Data(json.stdout.utf8))
        #expect(info.drain?.reason == "kernel upgrade", "draining again with a later deadline keeps the drain")

        let shown = try await ProcessRun.run(
            Binaries.sessionhostctl, ["host", "--socket", agent.socketPath], in: agent.directory)
        #expect(shown.stdout.contains("Drain "), "\(shown.stdout)")
        #expect(shown.stdout.contains("asked for on the VM: kernel upgrade"), "\(shown.stdout)")

        let bad = try await ProcessRun.run(
            Binaries.sessionhostctl, ["drain", "--socket", agent.socketPath, "--deadline", "0"], in: agent.directory)
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--deadline must be 1 to 604800"), "\(bad.stderr)")
        try await agent.stop()
    }

    @Test("--on-drained that hangs is killed at its timeout, one that fails is only logged: neither holds the agent")
    func onDrainedTimeout() async throws {
        let directory = try TemporaryDirectory()
        let notice = DrainNotice(deadline: "2030-01-01T00:00:00.000Z", source: .operator)
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let hanging = OnDrainedCommand(
            command: "echo $$ > \(directory.file("pid")); exec sleep 600", vmId: "vm", timeout: .milliseconds(300),
            logger: logger)
        try await Deadline.within(.seconds(30), "the hanging command's timeout") { await hanging.run(notice: notice) }
        let pid = try #require(
            Int32(
                try String(contentsOfFile: directory.file("pid"), encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) != 0, "the command was killed")
        let failing = OnDrainedCommand(command: "exit 3", vmId: "vm", logger: logger)
        try await Deadline.within(.seconds(30), "the failing command") { await failing.run(notice: notice) }
        #expect(hanging.environment(notice: notice)["SESSIONHOST_DRAIN_SOURCE"] == "operator")
        #expect(hanging.environment(notice: notice)["SESSIONHOST_VM_ID"] == "vm")
    }

    @Test("sessionhostctl drain parses --deadline, --reason and --json")
    func parsing() throws {
        let command = try DrainCommand.parse(["--deadline", "600", "--reason", "scale-in", "--json"])
        #expect(command.request == DrainCommandRequest(deadlineSeconds: 600, reason: "scale-in"))
        #expect(command.agent.json)
        #expect(try DrainCommand.parse([]).request == DrainCommandRequest())
        #expect(throws: (any Error).self) { try DrainCommand.parse(["--deadline", "604801"]) }
        #expect(throws: (any Error).self) { try DrainCommand.parse(["--deadline", "soon"]) }
        #expect(CommandOutput.describeRemaining(3600) == "in 1 hour")
        #expect(CommandOutput.describeRemaining(90) == "in 2 minutes")
        #expect(CommandOutput.describeRemaining(-1).hasPrefix("passed"))
    }

    @Test("the on-drained key and --on-drained; a flag wins, an empty command is none")
    func configuration() throws {
        let file = try JSONDecoder().decode(
            AgentConfigFile.self, from: Data(#"{"on-drained": "gcloud compute instances delete vm"}"#.utf8))
        #expect(file.onDrained == "gcloud compute instances delete vm")
        var resolved = try AgentConfiguration.resolve(options: try AgentOptions.parse([]), file: file, environment: [:])
        #expect(resolved.onDrained == "gcloud compute instances delete vm")
        resolved = try AgentConfiguration.resolve(
            options: try AgentOptions.parse(["--on-drained", "true"]), file: file, environment: [:])
        #expect(resolved.onDrained == "true")
        resolved = try AgentConfiguration.resolve(
            options: try AgentOptions.parse(["--on-drained", "  "]), file: file, environment: [:])
        #expect(resolved.onDrained == nil)
    }
}
