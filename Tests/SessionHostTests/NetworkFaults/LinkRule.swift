/// Which way a packet crosses the link between one agent's namespace and gsmsd.
enum LinkDirection: String, Sendable, CaseIterable {
    /// Agent to gsmsd: heartbeats, acknowledgements, the hand-off poll's request.
    case toControlPlane = "up"
    /// gsmsd to agent: answers, including hand-offs.
    case toAgent = "down"
}

/// One direction of one agent's link.
struct LinkKey: Hashable, Sendable {
    var agent: Int
    var direction: LinkDirection
}

/// What the forwarder does to the packets of one direction of one link. The default forwards
/// everything at once.
struct LinkRule: Sendable, Equatable, CustomStringConvertible {
    /// Chance that a packet is dropped, 0 to 1.
    var lossProbability: Double = 0
    /// Time a packet is held before it is forwarded...
    var delay: Duration = .zero
    /// ...plus or minus a uniform random amount up to this (which reorders packets).
    var jitter: Duration = .zero
    /// Every packet is dropped.
    var partitioned = false

    static let clear = LinkRule()
    static let cut = LinkRule(partitioned: true)

    static func loss(_ probability: Double) -> LinkRule { LinkRule(lossProbability: probability) }

    static func delay(_ base: Duration, jitter: Duration) -> LinkRule { LinkRule(delay: base, jitter: jitter) }

    var description: String {
        if partitioned { return "cut" }
        var parts: [String] = []
        if lossProbability > 0 { parts.append("loss \(Int((lossProbability * 100).rounded()))%") }
        if delay > .zero || jitter > .zero { parts.append("delay \(delay) ± \(jitter)") }
        return parts.isEmpty ? "clear" : parts.joined(separator: ", ")
    }
}

/// What happened to the packets of one direction of one link.
struct LinkCounters: Sendable {
    var forwarded = 0
    var delayed = 0
    var lost = 0
    var cut = 0
    /// Dropped because too many packets were held at once (the hold queue is bounded).
    var overflowed = 0

    static func + (left: LinkCounters, right: LinkCounters) -> LinkCounters {
        LinkCounters(
            forwarded: left.forwarded + right.forwarded, delayed: left.delayed + right.delayed,
            lost: left.lost + right.lost, cut: left.cut + right.cut, overflowed: left.overflowed + right.overflowed)
    }
}
