/// The socket of one slot of an agent that runs several session hosts (`sessionhostd --slots N`):
/// the agent, which creates it, and `sessionhostctl --slot K`, which finds it, share this rule.
public enum SlotSockets {
    /// The most slots one agent runs (`sessionhostd --slots`): one sync request to gsmsd carries them all.
    public static let maximumSlots = HostSyncRequest.maximumHosts

    /// The socket of slot `number` beside `socketPath`: the stem of `socketPath` without `.sock`,
    /// then `-number.sock`. `/run/sessionhost/agent.sock` gives `/run/sessionhost/agent-3.sock`.
    public static func path(of number: Int, beside socketPath: String) -> String {
        path(named: String(number), beside: socketPath)
    }

    /// The pattern of the slots' sockets, for messages: `/run/sessionhost/agent-K.sock`.
    public static func pattern(beside socketPath: String) -> String {
        path(named: "K", beside: socketPath)
    }

    private static func path(named slot: String, beside socketPath: String) -> String {
        let stem = socketPath.hasSuffix(".sock") ? String(socketPath.dropLast(5)) : socketPath
        return "\(stem)-\(slot).sock"
    }
}
