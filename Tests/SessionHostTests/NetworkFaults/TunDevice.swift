import Foundation

/// A layer-3 TUN device (`IFF_TUN | IFF_NO_PI`: whole IP packets, no header) bound to an open
/// descriptor of `/dev/net/tun`. It is not persistent: the kernel removes the device, with its
/// addresses and routes, when the descriptor is closed, so a crashed test leaves none behind.
/// The descriptor is non-blocking and close-on-exec (children never inherit it).
struct TunDevice: Sendable {
    let name: String
    let descriptor: Int32

    /// `TUNSETIFF` from <linux/if_tun.h>.
    private static let setInterfaceRequest: UInt = 0x4004_54ca
    /// `IFF_TUN | IFF_NO_PI`.
    private static let tunWithoutPacketInformation: Int16 = 0x0001 | 0x1000
    /// `sizeof(struct ifreq)`: the name (`IFNAMSIZ`, 16 bytes), then a union whose first member is the flags.
    private static let interfaceRequestSize = 40
    private static let maximumNameLength = 15

    /// Creates the device `name` in the calling thread's network namespace (the root one).
    static func create(name: String) throws -> TunDevice {
        guard !name.isEmpty, name.utf8.count <= maximumNameLength else {
            throw TestFailure("TUN device name \(name) is not 1 to \(maximumNameLength) bytes")
        }
        let descriptor = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw TestFailure("cannot open /dev/net/tun: \(String(cString: strerror(errno)))")
        }
        var request = [UInt8](repeating: 0, count: interfaceRequestSize)
        for (index, byte) in name.utf8.enumerated() { request[index] = byte }
        let result = request.withUnsafeMutableBytes { buffer -> Int32 in
            buffer.storeBytes(of: tunWithoutPacketInformation, toByteOffset: 16, as: Int16.self)
            guard let base = buffer.baseAddress else { return -1 }
            return ioctl(descriptor, setInterfaceRequest, base)
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw TestFailure("TUNSETIFF \(name): \(reason)")
        }
        return TunDevice(name: name, descriptor: descriptor)
    }
}
