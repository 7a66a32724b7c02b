#if canImport(Glibc)
import Glibc
#endif
import SessionHostHTTP

/// Decides which peers may use the agent socket (SPEC §3): root and the agent's own user always;
/// otherwise a peer whose user is allowed or one of whose groups is allowed.
public struct PeerPolicy: Sendable, Equatable {
    public var agentUID: UInt32
    public var allowedUsers: Set<UInt32>
    public var allowedGroups: Set<UInt32>

    public init(agentUID: UInt32, allowedUsers: some Sequence<UInt32>, allowedGroups: some Sequence<UInt32>) {
        self.agentUID = agentUID
        self.allowedUsers = Set(allowedUsers)
        self.allowedGroups = Set(allowedGroups)
    }

    /// The policy of this process: its own user, plus its own group unless groups were given.
    public static func forCurrentProcess(allowedUsers: [UInt32], allowedGroups: [UInt32]) -> PeerPolicy {
        PeerPolicy(
            agentUID: geteuid(),
            allowedUsers: allowedUsers,
            allowedGroups: allowedGroups.isEmpty ? [getegid()] : allowedGroups)
    }

    /// Root or the agent's own user: may also hand over sessions in local mode.
    public func isPrivileged(_ peer: PeerCredentials) -> Bool {
        peer.uid == 0 || peer.uid == agentUID
    }

    public func allows(_ peer: PeerCredentials) -> Bool {
        if isPrivileged(peer) || allowedUsers.contains(peer.uid) { return true }
        if allowedGroups.contains(peer.gid) { return true }
        return peer.supplementaryGroups.contains(where: allowedGroups.contains)
    }
}
