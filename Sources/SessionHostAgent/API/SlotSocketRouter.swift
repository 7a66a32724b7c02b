import SessionHostModel
import Systemd

/// Serves every slot on the agent's main socket (`--socket`) when the agent runs several: the
/// caller's slot is the instance of the systemd unit it runs in (`sessionhost-game@3.service`
/// is slot 3, `sd_pid_get_unit` of the peer's pid), so that a game server started from the
/// template unit finds its own session host without being told. A caller outside such a unit
/// gets 400 `SlotUnknown`, which names the per-slot sockets: it never talks to another slot.
/// `POST /v1/drain`, which is for the whole VM, is served from any caller (as slot 1 when the
/// caller's slot is unknown).
public struct SlotSocketRouter: Sendable {
    /// Slot K's API is `apis[K - 1]`.
    public let apis: [GameSocketAPI]
    /// The unit of a process (`SystemdUnit.of(pid:)`; injected by tests).
    public let unitOfProcess: @Sendable (Int32) -> String?
    /// The main socket's path, which the per-slot sockets are named after (for the error).
    public let socketPath: String

    public init(
        apis: [GameSocketAPI], socketPath: String,
        unitOfProcess: @escaping @Sendable (Int32) -> String? = { SystemdUnit.of(pid: $0) }
    ) {
        self.apis = apis
        self.socketPath = socketPath
        self.unitOfProcess = unitOfProcess
    }

    public func handle(_ request: AgentRequest) async -> AgentResponse {
        let peer = request.peer ?? .nobody
        if let first = apis.first, !first.policy.allows(peer) {
            return await first.handle(request) // refused there, with the same answer as a slot's socket
        }
        switch slot(of: peer.pid) {
        case .success(let number): return await apis[number - 1].handle(request)
        case .failure(let error):
            // A drain is for the VM: it needs no slot (the answer is slot 1's host).
            if request.path == "/v1/drain", let first = apis.first { return await first.handle(request) }
            return GameSocketAPI.error(error)
        }
    }

    /// The slot of the process `pid`, or why there is none.
    func slot(of pid: Int32) -> Result<Int, AgentError> {
        let unit = unitOfProcess(pid)
        let count = apis.count
        if let unit, let instance = SystemdUnit.instance(of: unit), let number = Int(instance),
            (1...count).contains(number)
        {
            return .success(number)
        }
        let path = SlotSockets.pattern(beside: socketPath)
        let seen = unit.map { "runs in \($0)" } ?? "runs in no systemd unit"
        return .failure(
            AgentError(
                .invalidRequest, code: .slotUnknown,
                message:
                    "this agent runs \(count) game servers (slots 1 to \(count)) and cannot tell which one is calling: the caller \(seen). Run the game server as an instance of a template unit (sessionhost-game@K.service, K = 1 to \(count)), or connect to the slot's own socket \(path) (SESSIONHOST_SOCKET=\(path))"
            ))
    }
}
