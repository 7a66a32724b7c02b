import Foundation

/// A small routed network whose every packet passes through a `PacketForwarder`:
///
/// - gsmsd's side, in the root namespace: a TUN device `shnf<pid>g` holding the control-plane
///   address (198.18.0.1 by default) and routing the agents' /24 into the forwarder;
/// - one network namespace per agent (`shnf-<pid>-<i>`), with loopback up and a TUN device
///   holding the agent's address (198.18.1.i by default), routing the control-plane address out.
///
/// Only 198.18.0.0/15 (RFC 2544, benchmarking) is used. Processes in the root namespace reach
/// the control-plane address by local delivery, never through the forwarder: the title's
/// traffic has no faults. Unix sockets are files, so a test in the root namespace talks to an
/// agent in its namespace through the agent's socket as usual.
///
/// The devices disappear when the forwarder closes them (also when the test process dies);
/// namespaces are deleted by `tearDown()` or `deinit`, and namespaces left behind by a test
/// process that no longer exists are deleted when the next network is made.
final class FaultNetwork: @unchecked Sendable {
    /// One agent's namespace and address.
    struct AgentLink: Sendable {
        /// 1-based, as in the agent's host id.
        var index: Int
        var namespace: String
        var address: IPv4Address
        var device: String
    }

    static let namespacePrefix = "shnf-"

    let controlPlaneAddress: IPv4Address
    let agents: [AgentLink]
    let forwarder: PacketForwarder
    private let directory: TemporaryDirectory
    private let lock = NSLock()
    private var namespacesLeft: [String]

    private init(
        controlPlaneAddress: IPv4Address, agents: [AgentLink], forwarder: PacketForwarder, directory: TemporaryDirectory
    ) {
        self.controlPlaneAddress = controlPlaneAddress
        self.agents = agents
        self.forwarder = forwarder
        self.directory = directory
        namespacesLeft = agents.map(\.namespace)
    }

    /// Builds the network for `agentCount` agents and starts forwarding (no faults yet).
    static func create(agentCount: Int, seed: UInt64) async throws -> FaultNetwork {
        guard geteuid() == 0 else {
            throw TestFailure(
                "the network fault tests need root (TUN devices and network namespaces); scripts/test runs the suite as root"
            )
        }
        let directory = try TemporaryDirectory()
        try await removeStaleNamespaces(in: directory)
        let block = try await freeAddressBlock(in: directory)
        let pid = getpid()
        let controlPlane = IPv4Address(198, 18, UInt8(2 * block), 1)
        let agentSubnet = "198.18.\(2 * block + 1).0/24"

        var devices: [TunDevice] = []
        var namespaces: [String] = []
        do {
            let root = try TunDevice.create(name: "shnf\(pid)g")
            devices.append(root)
            try await IPCommand.run(["addr", "add", "\(controlPlane)/32", "dev", root.name], in: directory)
            try await IPCommand.run(["link", "set", root.name, "up"], in: directory)
            try await IPCommand.run(["route", "add", agentSubnet, "dev", root.name], in: directory)
            var ports = [PacketForwarder.Port(device: root, address: controlPlane, agent: nil)]
            var links: [AgentLink] = []
            for index in 1...agentCount {
                let namespace = "\(namespacePrefix)\(pid)-\(index)"
                let address = IPv4Address(198, 18, UInt8(2 * block + 1), UInt8(index))
                let device = try TunDevice.create(name: "shnf\(pid)a\(index)")
                devices.append(device)
                try await IPCommand.run(["netns", "add", namespace], in: directory)
                namespaces.append(namespace)
                // Moving the device takes it down and clears it: configure it afterwards.
                try await IPCommand.run(["link", "set", device.name, "netns", namespace], in: directory)
                try await IPCommand.run(["-n", namespace, "link", "set", "lo", "up"], in: directory)
                try await IPCommand.run(
                    ["-n", namespace, "addr", "add", "\(address)/32", "dev", device.name], in: directory)
                try await IPCommand.run(["-n", namespace, "link", "set", device.name, "up"], in: directory)
                try await IPCommand.run(
                    ["-n", namespace, "route", "add", "\(controlPlane)/32", "dev", device.name], in: directory)
                ports.append(PacketForwarder.Port(device: device, address: address, agent: index))
                links.append(AgentLink(index: index, namespace: namespace, address: address, device: device.name))
            }
            let forwarder = try PacketForwarder(ports: ports, seed: seed)
            devices.removeAll() // the forwarder owns them now
            forwarder.start()
            return FaultNetwork(
                controlPlaneAddress: controlPlane, agents: links, forwarder: forwarder, directory: directory)
        } catch {
            for device in devices { close(device.descriptor) }
            for namespace in namespaces { IPCommand.runBlocking(["netns", "delete", namespace]) }
            throw error
        }
    }

    /// The agent link of `index` (1-based).
    func agent(_ index: Int) -> AgentLink { agents[index - 1] }

    /// Stops forwarding (which removes the devices) and deletes the namespaces. Stop the
    /// processes running in them first.
    func tearDown() async throws {
        try await forwarder.stop()
        let namespaces = lock.withLock {
            defer { namespacesLeft.removeAll() }
            return namespacesLeft
        }
        for namespace in namespaces {
            try await IPCommand.run(["netns", "delete", namespace], in: directory)
        }
    }

    deinit {
        forwarder.requestStop()
        for namespace in namespacesLeft { IPCommand.runBlocking(["netns", "delete", namespace]) }
    }

    // MARK: Set-up

    /// Deletes `shnf-<pid>-<i>` namespaces whose test process is gone, killing what still runs
    /// in them (an agent orphaned by a crashed test).
    private static func removeStaleNamespaces(in directory: TemporaryDirectory) async throws {
        let listing = try await IPCommand.run(["netns", "list"], in: directory)
        for line in listing.split(separator: "\n") {
            guard let name = line.split(separator: " ").first.map(String.init), name.hasPrefix(namespacePrefix),
                let owner = name.dropFirst(namespacePrefix.count).split(separator: "-").first.flatMap({ Int32($0) })
            else { continue }
            guard kill(owner, 0) != 0 && errno == ESRCH else { continue } // its test is still running
            let pids = (try? await IPCommand.run(["netns", "pids", name], in: directory)) ?? ""
            for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
            try await IPCommand.run(["netns", "delete", name], in: directory)
            print("netfault: deleted the stale namespace \(name) of the finished process \(owner)")
        }
    }

    /// The first block k (control plane 198.18.2k.1, agents 198.18.(2k+1).i) no other test
    /// process on this machine uses right now.
    private static func freeAddressBlock(in directory: TemporaryDirectory) async throws -> Int {
        let inUse = try await IPCommand.run(["-4", "-o", "addr", "show"], in: directory)
        for block in 0..<128 where !inUse.contains(" 198.18.\(2 * block).1/") {
            return block
        }
        throw TestFailure("every address block of 198.18.0.0/15 is in use by other tests")
    }
}
