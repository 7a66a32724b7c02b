import SessionHostModel

/// Where one slot (one session host of the agent) keeps its state, which socket serves its
/// game, and what it registers: resolved from `AgentConfiguration` before the agent starts.
///
/// With one slot (the default) the layout is the agent's as it always was: the state directory
/// itself, `--socket`, `--host-id`, `--port`. With N slots, slot K (1…N)
/// - keeps its state in the state directory (K = 1) or in its `slot-K` subdirectory, so that a
///   single-slot agent that grows keeps its host as slot 1;
/// - serves its game on `agent-K.sock` beside `--socket` (the stem of `--socket` with `-K`);
///   `--socket` itself serves every slot, picking it from the caller's systemd unit instance;
/// - has the host id of its `"slot"` block, else `--host-id` with `-K`, else one derived from
///   the machine id and its state directory (slot 1's is the single-slot agent's);
/// - has the ports of its `"slot"` block, else each `--port` plus (K − 1) × the stride.
public struct SlotPlan: Sendable, Equatable {
    /// 1…N.
    public var number: Int
    public var stateDirectory: String
    /// The socket that serves this slot alone; `nil` with one slot (`--socket` serves it).
    public var socketPath: String?
    /// `nil`: the saved id, else a derived one.
    public var hostId: String?
    public var ports: [PortSpecification]

    public init(number: Int, stateDirectory: String, socketPath: String?, hostId: String?, ports: [PortSpecification]) {
        self.number = number
        self.stateDirectory = stateDirectory
        self.socketPath = socketPath
        self.hostId = hostId
        self.ports = ports
    }

    /// The most slots one agent runs (one sync request to gsmsd carries them all).
    public static let maximumSlots = SlotSockets.maximumSlots

    /// `--slots` or the number of `"slot"` blocks (they must agree when both are given).
    static func slotCount(flag: Int?, blocks: [AgentConfigFile.SlotBlock]?) throws(InvalidInput) -> Int {
        if let blocks, let flag, blocks.count != flag {
            throw InvalidInput(
                code: .invalidSlots,
                message: "--slots \(flag) disagrees with the \(blocks.count) \"slot\" blocks of the config file")
        }
        let count = flag ?? blocks.map(\.count) ?? 1
        guard (1...maximumSlots).contains(count) else {
            throw InvalidInput(code: .invalidSlots, message: "--slots must be 1 to \(maximumSlots); got \(count)")
        }
        return count
    }

    static func checkHostId(_ hostId: String, option: String) throws(InvalidInput) {
        if hostId.isEmpty || hostId.count > 128
            || !hostId.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F && $0 != "/" })
        {
            throw InvalidInput(
                code: .invalidHostId, message: "\(option) must be 1 to 128 visible ASCII characters without '/'")
        }
    }

    /// The socket of slot `number` beside `socketPath`: `/run/sessionhost/agent.sock` gives
    /// `/run/sessionhost/agent-3.sock`.
    public static func socketPath(of number: Int, beside socketPath: String) -> String {
        SlotSockets.path(of: number, beside: socketPath)
    }

    /// The state directory of slot `number`.
    public static func stateDirectory(of number: Int, in stateDirectory: String) -> String {
        number == 1 ? stateDirectory : stateDirectory + "/slot-\(number)"
    }
}

extension AgentConfiguration {
    /// Every slot's plan, checked: host ids are unique and no two slots share a port.
    public func slotPlans() throws(InvalidInput) -> [SlotPlan] {
        guard slotCount > 1 else {
            return [SlotPlan(number: 1, stateDirectory: stateDirectory, socketPath: nil, hostId: hostId, ports: ports)]
        }
        let stride = try resolvedPortStride()
        var plans: [SlotPlan] = []
        for number in 1...slotCount {
            let block = number <= slotBlocks.count ? slotBlocks[number - 1] : nil
            var slotHostId = hostId.map { "\($0)-\(number)" }
            if let blockId = block?.hostId {
                try SlotPlan.checkHostId(blockId, option: "the host-id of slot \(number)")
                slotHostId = blockId
            }
            var slotPorts: [PortSpecification] = []
            if let texts = block?.port {
                for text in texts {
                    let port = try PortSpecification(parsing: text)
                    if slotPorts.contains(where: { $0.name == port.name }) {
                        throw InvalidInput(
                            code: .invalidPort, message: "slot \(number): port name '\(port.name)' is given twice")
                    }
                    slotPorts.append(port)
                }
            } else {
                for port in ports {
                    var shifted = port
                    shifted.internalPort += (number - 1) * stride
                    shifted.externalPort += (number - 1) * stride
                    guard shifted.internalPort <= 65535, shifted.externalPort <= 65535 else {
                        throw InvalidInput(
                            code: .invalidSlots,
                            message:
                                "slot \(number)'s port '\(port.name)' would be above 65535 (stride \(stride)); lower --slots or --slot-port-stride, or give the slot its ports in a \"slot\" block"
                        )
                    }
                    slotPorts.append(shifted)
                }
            }
            plans.append(
                SlotPlan(
                    number: number, stateDirectory: SlotPlan.stateDirectory(of: number, in: stateDirectory),
                    socketPath: SlotPlan.socketPath(of: number, beside: socketPath), hostId: slotHostId,
                    ports: slotPorts))
        }
        try Self.checkDistinct(plans)
        return plans
    }

    /// `--slot-port-stride`, or the span of the configured ports plus one.
    private func resolvedPortStride() throws(InvalidInput) -> Int {
        if let slotPortStride {
            guard (1...65535).contains(slotPortStride) else {
                throw InvalidInput(code: .invalidSlots, message: "--slot-port-stride must be 1 to 65535")
            }
            return slotPortStride
        }
        let internalPorts = ports.map(\.internalPort)
        let externalPorts = ports.map(\.externalPort)
        let internalSpan = (internalPorts.max() ?? 0) - (internalPorts.min() ?? 0)
        let externalSpan = (externalPorts.max() ?? 0) - (externalPorts.min() ?? 0)
        return max(internalSpan, externalSpan) + 1
    }

    /// No two slots may have the same host id, or the same port and protocol (inside or outside).
    private static func checkDistinct(_ plans: [SlotPlan]) throws(InvalidInput) {
        var hostIds: [String: Int] = [:]
        /// "internal port udp 7777" to the slot that uses it.
        var ports: [String: Int] = [:]
        for plan in plans {
            if let id = plan.hostId {
                if let other = hostIds[id] {
                    throw InvalidInput(
                        code: .invalidSlots, message: "slots \(other) and \(plan.number) have host id \(id)")
                }
                hostIds[id] = plan.number
            }
            for port in plan.ports {
                for key in [
                    "internal port \(port.transport.rawValue) \(port.internalPort)",
                    "external port \(port.transport.rawValue) \(port.externalPort)",
                ] {
                    if let other = ports[key], other != plan.number {
                        throw InvalidInput(
                            code: .invalidSlots,
                            message:
                                "slots \(other) and \(plan.number) both use \(key); set --slot-port-stride (at least the span of the ports plus one) or give each slot its ports"
                        )
                    }
                    ports[key] = plan.number
                }
            }
        }
    }
}

extension InvalidInput.Code {
    public static let invalidSlots = InvalidInput.Code(rawValue: "InvalidSlots")
    public static let invalidVMId = InvalidInput.Code(rawValue: "InvalidVMId")
}
