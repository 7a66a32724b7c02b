import Foundation
import SessionHostModel
import SessionHostSDK
import Synchronization

/// A test "cloud" for the closed loop of docs/operations.md ("A day in the life"): its VMs are
/// real `sessionhostd` processes with several slots, joined to a real gsmsd. It does what a
/// studio's autoscaler does with gsmsd's scaling hook:
///
/// - reads the VMs wanted from the hook's requests (the hook command appends each one, a JSON
///   line, to `hookLog`);
/// - starts VMs when fewer run than are wanted (each slot's game calls ready);
/// - scales in by draining the VMs with the fewest sessions through the operator API;
/// - removes a VM only once its agent ran `--on-drained` (every slot idle), and checks then that
///   gsmsd has no session on it: a removal that would cut a session is recorded as a violation.
final class TestCloud: @unchecked Sendable {
    struct VM {
        let id: String
        let agent: AgentProcess
        /// One client per slot, on the slot's socket.
        let games: [AgentClient]
        /// The file `--on-drained` creates.
        let drainedMarker: String
        var draining = false
    }

    let gsms: GSMSProcess
    let hookLog: String
    let operatorTokenFile: String
    let slotsPerVM: Int
    private let fleetSecretFile: String
    private let state = Mutex<(vms: [VM], nextIndex: Int, removed: [String], violations: [String], errors: [String])>(
        ([], 1, [], [], []))

    init(gsms: GSMSProcess, hookLog: String, operatorTokenFile: String, slotsPerVM: Int) throws {
        self.gsms = gsms
        self.hookLog = hookLog
        self.operatorTokenFile = operatorTokenFile
        self.slotsPerVM = slotsPerVM
        fleetSecretFile = gsms.directory.file("fleet.token")
        try Data((GSMSProcess.fleetSecret + "\n").utf8).write(to: URL(fileURLWithPath: fleetSecretFile))
    }

    var vms: [VM] { state.withLock { $0.vms } }
    var removed: [String] { state.withLock { $0.removed } }
    var violations: [String] { state.withLock { $0.violations } }
    /// What failed in the autoscaler's steps (each step is tried again).
    var errors: [String] { state.withLock { $0.errors } }

    func recordError(_ error: any Error) { state.withLock { $0.errors.append("\(error)") } }

    /// The VMs wanted by the newest scaling request, and every value requested so far.
    var requestedVMs: [Int] {
        let text = (try? String(contentsOfFile: hookLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            (try? JSONDecoder().decode(ScalingRequest.self, from: Data(line.utf8)))?.buffer.wantedVMs
        }
    }

    var operatorHeaders: [(String, String)] {
        let secret = (try? String(contentsOfFile: operatorTokenFile, encoding: .utf8)) ?? ""
        return [("Authorization", "Bearer " + secret.trimmingCharacters(in: .whitespacesAndNewlines))]
    }

    /// One step of the autoscaler: remove drained VMs, then start or drain VMs towards the
    /// newest wanted count.
    func reconcile() async throws {
        for vm in vms where vm.draining && FileManager.default.fileExists(atPath: vm.drainedMarker) {
            let sessions = try await operatorSessions(vmId: vm.id)
            if !sessions.isEmpty {
                state.withLock { $0.violations.append("\(vm.id) reported drained while holding \(sessions)") }
                continue
            }
            try await vm.agent.stop()
            state.withLock { state in
                state.vms.removeAll { $0.id == vm.id }
                state.removed.append(vm.id)
            }
        }
        guard let wanted = requestedVMs.last else { return }
        let running = vms.filter { !$0.draining }
        if running.count < wanted {
            for _ in running.count..<wanted { try await startVM() }
        } else if running.count > wanted {
            var candidates: [(VM, Int)] = []
            for vm in running { candidates.append((vm, try await operatorSessions(vmId: vm.id).count)) }
            for (vm, _) in candidates.sorted(by: { $0.1 < $1.1 }).prefix(running.count - wanted) {
                try await drain(vmId: vm.id, deadlineSeconds: 600)
            }
        }
    }

    /// Starts one VM: an agent with `slotsPerVM` slots whose games all call ready.
    @discardableResult
    func startVM() async throws -> VM {
        let index = state.withLock { state in
            defer { state.nextIndex += 1 }
            return state.nextIndex
        }
        let id = "vm-\(index)"
        let marker = gsms.directory.file("drained-\(id)")
        let agent = try await AgentProcess.started(arguments: [
            "--control-plane", "http://127.0.0.1:\(gsms.client.port)", "--agent-token-file", fleetSecretFile,
            "--title-id", "1234", "--host-id", id, "--slots", "\(slotsPerVM)", "--region", "WestUS",
            "--hostname", "\(id).example.net", "--port", "game:udp:7777:30000", "--health-timeout", "0",
            "--vm-id", id, "--on-drained", "touch \(marker)",
        ])
        let games = (1...slotsPerVM).map { AgentClient(socketPath: SlotSockets.path(of: $0, beside: agent.socketPath)) }
        let vm = VM(id: id, agent: agent, games: games, drainedMarker: marker)
        // Listed at once, so that `stopAll` stops it whatever fails next.
        state.withLock { $0.vms.append(vm) }
        // One key for all of an agent's slots.
        for slot in 1...slotsPerVM { try gsms.useHostKey(in: agent.stateDirectory, hostId: "\(id)-\(slot)") }
        for game in games { _ = try await game.ready() }
        return vm
    }

    /// Drains a VM through the operator API; the cloud removes it once it is drained.
    func drain(vmId: String, deadlineSeconds: Int) async throws {
        let answer = try await gsms.client.send(
            .POST, "/operator/v1/drains", headers: operatorHeaders,
            body: Array(try JSONEncoder().encode(DrainRequest(vmId: vmId, deadlineSeconds: deadlineSeconds))))
        guard answer.status == 200 else { throw TestFailure("drain \(vmId): \(answer)") }
        state.withLock { state in
            if let index = state.vms.firstIndex(where: { $0.id == vmId }) { state.vms[index].draining = true }
        }
    }

    func operatorSessions(vmId: String) async throws -> [String] {
        let answer = try await gsms.client.send(.GET, "/operator/v1/sessions?vmId=\(vmId)", headers: operatorHeaders)
        guard answer.status == 200 else { throw TestFailure("sessions of \(vmId): \(answer)") }
        return try answer.decode(OperatorSessionPage.self).sessions.map(\.sessionId)
    }

    func buffers() async throws -> StandbyBufferStatus? {
        let answer = try await gsms.client.send(.GET, "/operator/v1/buffers", headers: operatorHeaders)
        guard answer.status == 200 else { throw TestFailure("buffers: \(answer)") }
        return try answer.decode(StandbyBufferReport.self).buffers.first
    }

    /// The game holding `sessionId`, if any VM's slot holds it.
    func game(holding sessionId: String) async throws -> (VM, AgentClient)? {
        for vm in vms {
            for game in vm.games where try await game.session().sessionId == sessionId { return (vm, game) }
        }
        return nil
    }

    func stopAll() async {
        for vm in vms { _ = try? await vm.agent.stop() }
    }
}
