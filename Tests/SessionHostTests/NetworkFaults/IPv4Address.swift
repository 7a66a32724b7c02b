/// An IPv4 address, as the forwarder reads it from packet headers.
struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    let value: UInt32

    init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// The destination of an IPv4 packet (bytes 16 to 19 of its header); nil for anything else
    /// (IPv6, a truncated packet).
    init?(destinationOf packet: [UInt8]) {
        guard packet.count >= 20, packet[0] >> 4 == 4 else { return nil }
        self.init(packet[16], packet[17], packet[18], packet[19])
    }

    var description: String {
        [24, 16, 8, 0].map { String((value >> UInt32($0)) & 0xff) }.joined(separator: ".")
    }
}
