import Foundation
import Synchronization

/// The userspace "wire" of a fault network: one plain thread moves IPv4 packets between TUN
/// devices (poll(2) on all of them), routing each by its destination address (bytes 16 to 19
/// of the IPv4 header) to the device behind which that address lives, and applies the rule of
/// the link and direction it crosses: loss, delay with jitter (held packets wait in a
/// time-ordered queue; jitter reorders them, as real networks do), or a cut.
///
/// Rules can be changed at any time from any task. Random choices come from one seeded
/// generator, so the same seed replays the same sequence of choices (the packets themselves
/// depend on timing). Once started, the forwarder owns the devices' descriptors and closes
/// them when its thread ends, which removes the devices.
final class PacketForwarder: Sendable {
    /// A TUN device and the IPv4 address that lives behind it.
    struct Port: Sendable {
        var device: TunDevice
        var address: IPv4Address
        /// The agent whose namespace holds the device; nil for gsmsd's (root namespace) device.
        var agent: Int?
    }

    private enum Verdict {
        case forward
        case hold(Duration)
        case drop
    }

    private struct Shared {
        var rules: [LinkKey: LinkRule] = [:]
        var counters: [LinkKey: LinkCounters] = [:]
        var unroutable = 0
        var writeFailures = 0
        var random: FaultInjectionTests.SplitMix64
        var started = false
        var stopRequested = false
        var finished = false
        var failure: String?
    }

    /// Packets held at once; more are dropped (counted as `overflowed`).
    static let maximumHeldPackets = 20_000
    /// Packets read from one device per wake-up, so that a busy device cannot starve the others.
    static let maximumReadsPerWake = 256
    /// The longest poll(2) wait: how soon a stop request is noticed even without a wake-up.
    static let maximumPollMilliseconds: Int32 = 100
    /// The thread stops by itself after this long, whatever happens to the test.
    static let maximumLifetime: Duration = .seconds(900)

    let seed: UInt64
    private let ports: [Port]
    private let shared: Mutex<Shared>
    private let wakeReader: Int32
    private let wakeWriter: Int32

    init(ports: [Port], seed: UInt64) throws {
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            throw TestFailure("pipe: \(String(cString: strerror(errno)))")
        }
        for end in pipeEnds {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, O_NONBLOCK)
        }
        self.ports = ports
        self.seed = seed
        wakeReader = pipeEnds[0]
        wakeWriter = pipeEnds[1]
        shared = Mutex(Shared(random: FaultInjectionTests.SplitMix64(state: seed)))
    }

    deinit {
        // Never started (a set-up failed half-way): the descriptors are still ours to close.
        let started = shared.withLock { $0.started }
        if !started { closeDescriptors() }
    }

    /// Starts the forwarding thread.
    func start() {
        shared.withLock { $0.started = true }
        let thread = Thread { [self] in
            self.forwardUntilStopped()
        }
        thread.name = "netfault-forwarder"
        thread.start()
    }

    /// Applies `rule` to one direction of one agent's link from now on (packets already held
    /// keep their release time).
    func setRule(_ rule: LinkRule, agent: Int, direction: LinkDirection) {
        shared.withLock { $0.rules[LinkKey(agent: agent, direction: direction)] = rule }
    }

    /// Applies `rule` to both directions of one agent's link.
    func setRule(_ rule: LinkRule, agent: Int) {
        for direction in LinkDirection.allCases { setRule(rule, agent: agent, direction: direction) }
    }

    /// Removes every rule: all links forward everything at once.
    func clearRules() {
        shared.withLock { $0.rules.removeAll() }
    }

    /// What happened to each link's packets so far.
    var counters: [LinkKey: LinkCounters] { shared.withLock { $0.counters } }

    /// Packets that matched no link (e.g. IPv6 neighbour discovery), and failed writes.
    var strayPackets: (unroutable: Int, writeFailures: Int) { shared.withLock { ($0.unroutable, $0.writeFailures) } }

    /// Asks the thread to stop; safe to call more than once, and from a `deinit`.
    func requestStop() {
        shared.withLock { state in
            guard !state.stopRequested, !state.finished else { return }
            state.stopRequested = true
            var byte: UInt8 = 1
            _ = write(wakeWriter, &byte, 1)
        }
    }

    /// Stops the thread and waits until it has closed the devices.
    func stop() async throws {
        requestStop()
        let started = shared.withLock { $0.started }
        guard started else { return }
        try await Deadline.waitUntil("the packet forwarder to stop", timeout: .seconds(10)) {
            self.shared.withLock { $0.finished }
        }
        if let failure = shared.withLock({ $0.failure }) { throw TestFailure("packet forwarder: \(failure)") }
    }

    // MARK: The thread

    private func forwardUntilStopped() {
        let endOfLife = ContinuousClock.now + Self.maximumLifetime
        let portByAddress = Dictionary(
            ports.enumerated().map { ($1.address, $0) }, uniquingKeysWith: { first, _ in first })
        var held = HeldPacketQueue(capacity: Self.maximumHeldPackets)
        var pollers = [pollfd(fd: wakeReader, events: Int16(POLLIN), revents: 0)]
        pollers += ports.map { pollfd(fd: $0.device.descriptor, events: Int16(POLLIN), revents: 0) }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while ContinuousClock.now < endOfLife {
            let ready = poll(&pollers, nfds_t(pollers.count), Self.pollTimeout(until: held.nextRelease))
            if ready < 0 && errno != EINTR {
                let reason = "poll: \(String(cString: strerror(errno)))"
                shared.withLock { $0.failure = reason }
                break
            }
            if shared.withLock({ $0.stopRequested }) { break }
            for (index, port) in ports.enumerated() where pollers[index + 1].revents & Int16(POLLIN) != 0 {
                for _ in 0..<Self.maximumReadsPerWake {
                    let count = read(port.device.descriptor, &buffer, buffer.count)
                    guard count > 0 else { break }
                    route(Array(buffer[0..<count]), from: index, portByAddress: portByAddress, held: &held)
                }
            }
            let now = ContinuousClock.now
            while let packet = held.popDue(at: now) {
                send(packet.bytes, to: packet.destination)
            }
        }
        shared.withLock { $0.stopRequested = true } // no wake-up is written from now on
        closeDescriptors()
        shared.withLock { $0.finished = true }
    }

    private func route(
        _ packet: [UInt8], from source: Int, portByAddress: [IPv4Address: Int], held: inout HeldPacketQueue
    ) {
        guard let destination = IPv4Address(destinationOf: packet), let target = portByAddress[destination],
            target != source
        else {
            shared.withLock { $0.unroutable += 1 }
            return
        }
        let key: LinkKey
        switch (ports[source].agent, ports[target].agent) {
        case (let agent?, nil): key = LinkKey(agent: agent, direction: .toControlPlane)
        case (nil, let agent?): key = LinkKey(agent: agent, direction: .toAgent)
        default:
            shared.withLock { $0.unroutable += 1 }
            return
        }
        let descriptor = ports[target].device.descriptor
        switch verdict(for: key) {
        case .drop:
            return
        case .forward:
            send(packet, to: descriptor)
        case .hold(let delay):
            if !held.insert(packet, to: descriptor, release: ContinuousClock.now + delay) {
                shared.withLock { $0.counters[key, default: LinkCounters()].overflowed += 1 }
            }
        }
    }

    /// Decides one packet's fate under the lock, counting it.
    private func verdict(for key: LinkKey) -> Verdict {
        shared.withLock { state in
            let rule = state.rules[key] ?? .clear
            if rule.partitioned {
                state.counters[key, default: LinkCounters()].cut += 1
                return .drop
            }
            if rule.lossProbability > 0, Double.random(in: 0..<1, using: &state.random) < rule.lossProbability {
                state.counters[key, default: LinkCounters()].lost += 1
                return .drop
            }
            let base = Self.nanoseconds(rule.delay)
            let spread = Self.nanoseconds(rule.jitter)
            let delay = max(0, base + (spread > 0 ? Int64.random(in: -spread...spread, using: &state.random) : 0))
            state.counters[key, default: LinkCounters()].forwarded += 1
            guard delay > 0 else { return .forward }
            state.counters[key, default: LinkCounters()].delayed += 1
            return .hold(.nanoseconds(delay))
        }
    }

    private func send(_ packet: [UInt8], to descriptor: Int32) {
        let written = packet.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if written != packet.count { shared.withLock { $0.writeFailures += 1 } }
    }

    private func closeDescriptors() {
        for port in ports { close(port.device.descriptor) }
        close(wakeReader)
        close(wakeWriter)
    }

    private static func pollTimeout(until release: ContinuousClock.Instant?) -> Int32 {
        guard let release else { return maximumPollMilliseconds }
        let wait = nanoseconds(release - ContinuousClock.now)
        guard wait > 0 else { return 0 }
        return Int32(min(Int64(maximumPollMilliseconds), (wait + 999_999) / 1_000_000))
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}
