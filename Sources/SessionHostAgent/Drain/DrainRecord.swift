import SessionHostModel

/// What the agent keeps of a drain in `drain.json` (slot 1's state directory): the drain in
/// force, for the whole VM, and whether `--on-drained` was started for it, so that neither a
/// restart nor a crash starts a drain, ends one, or runs the command again.
public struct DrainRecord: Codable, Sendable, Equatable {
    /// Format of the file; bumped when it changes incompatibly.
    public static let currentFormat = 1

    public var format: Int
    public var notice: DrainNotice
    /// ISO 8601 (UTC): when `--on-drained` was started for this drain (recorded before it
    /// starts, so it runs at most once per drain); absent while it has not run.
    public var onDrainedStartedAt: String?

    public init(notice: DrainNotice, onDrainedStartedAt: String? = nil) {
        self.format = Self.currentFormat
        self.notice = notice
        self.onDrainedStartedAt = onDrainedStartedAt
    }
}

/// The drain a slot shows, for readers that must not wait for an actor: the drain in force (if
/// any) and whether every slot of the VM is idle under it.
public struct DrainStanding: Sendable, Equatable {
    public var notice: DrainNotice?
    /// Draining, and no slot holds a session: the VM can be removed.
    public var drained: Bool

    public init(notice: DrainNotice? = nil, drained: Bool = false) {
        self.notice = notice
        self.drained = drained && notice != nil
    }
}
