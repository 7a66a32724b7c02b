import ServiceLifecycle

/// The agent's socket servers (the main socket and, with several slots, each slot's own) as one
/// service. They share the APIs' `stopping` signal, which the first of them to stop fires, so
/// that every held poll ends; as separate services of the group the others would then finish
/// before the group asked them to, which the group treats as a failure (exit 1 on
/// `systemctl stop`). Together they start draining at the same moment and finish as one.
struct AgentSocketServers: Service {
    let servers: [AgentSocketServer]

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for server in servers {
                group.addTask { try await server.run() }
            }
            try await group.waitForAll()
        }
    }
}
