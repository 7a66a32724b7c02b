#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Who is on the other end of a Unix socket connection, from `SO_PEERCRED` and `SO_PEERGROUPS`.
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// The peer's supplementary groups when the kernel reported them.
    public var supplementaryGroups: [UInt32]

    public init(pid: Int32, uid: UInt32, gid: UInt32, supplementaryGroups: [UInt32] = []) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.supplementaryGroups = supplementaryGroups
    }

    /// The ids of nobody: what a peer whose credentials cannot be read gets, so that no policy
    /// allows it by default.
    public static let nobody = PeerCredentials(pid: 0, uid: 65534, gid: 65534)

    /// Reads `SO_PEERCRED` and `SO_PEERGROUPS` of a connected Unix socket; `nobody` when they
    /// cannot be read.
    static func read(from channel: any Channel) -> EventLoopFuture<PeerCredentials> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(.nobody)
        }
        let credentials: EventLoopFuture<UCred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        let groups: EventLoopFuture<PeerGroupList> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERGROUPS))
        return credentials.and(groups.recover { _ in PeerGroupList() }).map { credentials, groups in
            PeerCredentials(
                pid: credentials.pid, uid: credentials.uid, gid: credentials.gid, supplementaryGroups: groups.ids)
        }.recover { _ in .nobody }
    }
}

/// The layout of Linux's `struct ucred` (which Swift's Glibc module leaves out without _GNU_SOURCE).
struct UCred: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// Room for the supplementary groups `SO_PEERGROUPS` reports (more than any game server has).
struct PeerGroupList: Sendable {
    var storage = InlineArray<64, gid_t>(repeating: 0)

    /// The reported groups; root's group 0 is left out because unused slots are 0 too.
    var ids: [UInt32] {
        var result: [UInt32] = []
        for index in storage.indices where storage[index] != 0 {
            result.append(storage[index])
        }
        return result
    }
}
