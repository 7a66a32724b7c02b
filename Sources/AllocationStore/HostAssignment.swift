/// A hand-off waiting for its host's acknowledgement: what the host's held poll answers.
public struct PendingHandoff: Sendable, Equatable {
    public var allocation: Allocation
    /// The host's assignment revision (`HostRecord.revision`) when it was read.
    public var hostRevision: Int64

    public init(allocation: Allocation, hostRevision: Int64) {
        self.allocation = allocation
        self.hostRevision = hostRevision
    }
}

/// A host with the session assigned to it: what an agent is told about its host.
public struct HostAssignment: Sendable, Equatable {
    public var host: HostRecord
    /// The host's session, Allocating or Active; nil when it holds none.
    public var session: Allocation?

    public init(host: HostRecord, session: Allocation?) {
        self.host = host
        self.session = session
    }
}
