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
