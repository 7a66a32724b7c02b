import Foundation
import Logging
import SessionHostAgent
import SessionHostModel

/// An in-process `HostAgent` over a temporary state directory.
struct AgentFixture {
    let directory: TemporaryDirectory
    let store: AgentStateStore
    let agent: HostAgent

    static let sessionId = "3536d3e6-e85d-4f47-b898-9617d19dabcd"

    /// With a `clock`, the agent reads the time from it (its `wallClock` too); otherwise the system's.
    init(
        directory: TemporaryDirectory? = nil, healthTimeout: Duration? = nil, hostId: String? = nil,
        clock: ManualClock? = nil
    ) throws {
        let directory = try directory ?? TemporaryDirectory()
        self.directory = directory
        store = AgentStateStore(directory: directory.file("state"))
        var configuration = AgentConfiguration(
            socketPath: directory.file("agent.sock"), stateDirectory: store.directory)
        configuration.titleId = "1234ABCD"
        configuration.region = "WestUS"
        configuration.ports = [
            PortSpecification(name: "game", transport: .udp, internalPort: 7777, externalPort: 30000)
        ]
        agent = try HostAgent(
            identity: HostIdentity(configuration: configuration),
            configuredHostId: hostId,
            derivedHostId: { "derived-host-id" },
            healthTimeout: healthTimeout,
            store: store,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            clock: clock ?? ContinuousClock() as any Clock<Duration>,
            wallClock: clock?.wallClock ?? .system)
    }
}

/// Waits, with a deadline, for the first element of `stream` that satisfies `matches`.
func first<Element: Sendable>(
    _ stream: AsyncStream<Element>, within timeout: Duration = .seconds(30),
    where matches: @escaping @Sendable (Element) -> Bool
) async throws -> Element {
    let found = try await Deadline.within(timeout, "a matching element") { () async -> Element? in
        for await element in stream where matches(element) { return element }
        return nil
    }
    guard let found else { throw TestFailure("the stream ended without a matching element") }
    return found
}
