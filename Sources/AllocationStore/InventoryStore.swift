public import FoundationEssentials
public import SessionHostModel

/// The inventory of session hosts, their sessions and the cluster queue: everything gsmsd must
/// not lose. Every method is one transaction, so a host is never given two sessions and a
/// session never two hosts, whichever instances and requests race, and across a SIGKILL.
///
/// Implementations: `SQLiteInventoryStore` (embedded, the default) and `PostgresInventoryStore`
/// (several gsmsd instances over one database); one contract test suite runs on both.
public protocol InventoryStore: Sendable {
    // MARK: Hosts

    /// Registers a host or updates its description (upsert). A host holding a session keeps it
    /// and its state; otherwise its state becomes the registration's (`Unhealthy` when the game is
    /// unhealthy). Counts as a heartbeat. A host without a drain takes the registration's
    /// `drain`, else the drain of an operator's scope that covers it and whose deadline is ahead
    /// (`drain(_:_:at:)`; of both, the one with the earlier deadline); a drain once on a host stays
    /// until the host is deregistered, and only a drain with an earlier deadline replaces it.
    func registerHost(id: String, _ registration: HostRegistration, at now: Date) async throws -> HostRecord

    /// Records a heartbeat and reconciles the agent's view with the inventory's: a host holding a
    /// session keeps it (Active, or Unhealthy while the game is unhealthy); a host without one
    /// takes the agent's state, except that an agent claiming a session the inventory does not
    /// know is set Terminating. Throws `StoreError.unknownHost` for an unregistered host.
    /// Also: a host without a drain (or with a later deadline) takes the heartbeat's `drain`,
    /// even from a heartbeat based on an older revision; `drained` is recorded (false
    /// when absent); `players` are recorded when the heartbeat names the session the host
    /// holds (a host's players are cleared whenever its session changes or ends).
    func recordHeartbeat(id: String, _ heartbeat: HostHeartbeat, at now: Date) async throws -> HostRecord

    /// The host, if registered.
    func host(id: String) async throws -> HostRecord?

    /// The host with its session, if registered, read together.
    func assignment(hostId: String) async throws -> HostAssignment?

    /// Removes a host without a session, and the key bound to its id. Returns false when there
    /// was no host; throws `StoreError.hostHasSession` when it holds one.
    func deregisterHost(id: String) async throws -> Bool

    /// Compares `digest` (the SHA-256 of the key an agent presented, hex) with the key bound to
    /// the host id. With none bound, binds this one when `bindIfAbsent` is set or the host is
    /// registered (hosts registered before keys existed), else answers `.absent`.
    func checkHostKey(hostId: String, digest: String, bindIfAbsent: Bool, at now: Date) async throws -> HostKeyCheck

    // MARK: Fleet (the operator API)

    /// Hosts matching `filter`, ordered by host id, the first `limit` after the host id `after`.
    func listHosts(_ filter: HostFilter, after: String?, limit: Int) async throws -> [HostRecord]

    /// Sessions (Allocating or Active) matching `filter`, ordered by title then session id, the
    /// first `limit` after `after`.
    func listSessions(_ filter: SessionFilter, after: SessionCursor?, limit: Int) async throws -> [SessionListing]

    /// The title's session (Allocating or Active) with its host's VM and players.
    func sessionListing(titleId: String, sessionId: String) async throws -> SessionListing?

    /// Drains every host `scope` covers that has no drain yet (an earlier deadline replaces a
    /// later one), and keeps the scope until `drain.deadline` so that hosts registering under it
    /// meanwhile are drained too. Returns how many hosts the scope covers now. Every host changed
    /// gets a larger revision.
    func drain(_ scope: DrainScope, _ drain: HostDrain, at now: Date) async throws -> Int

    /// Shuts the title's session down: it leaves the inventory and its host becomes Terminating
    /// (revision up) until its agent reports StandingBy, as when the game ends it. Answers the
    /// host as changed; nil when the title has no such session (Allocating or Active).
    func shutdownSession(titleId: String, sessionId: String, at now: Date) async throws -> HostRecord?

    /// Per title and region: hosts by state, draining hosts, VMs (one read).
    func fleetCounts() async throws -> [RegionFleetCount]

    // MARK: Allocations

    /// If the title already has this session: `.active` or `.inFlight`. Otherwise picks a live
    /// StandingBy host without a drain matching the criteria (locations strictly in order; inside one location as
    /// `claim.strategy` says: `.distributed` the longest-StandingBy host, `.packed` the host whose
    /// VM has the most hosts holding a session, then the longest-StandingBy), marks it Allocating
    /// with the session, and answers `.claimed`; `.noHost` when none matches.
    func claimHost(_ claim: AllocationClaim) async throws -> ClaimOutcome

    /// The agent acknowledged: Allocating becomes Active on host and session. Idempotent for a
    /// session already Active on that host. Answers the host as updated with its session (so the
    /// agent's answer needs no second read); `nil` when the session is not (any more) on the host.
    func confirmHandoff(hostId: String, sessionId: String, at now: Date) async throws -> HostAssignment?

    /// The host did not acknowledge in time. If the session is still Allocating on
    /// `failedHostId`, that host becomes Unhealthy and the session moves to the next candidate
    /// (`.claimed`) or, with none left, is dropped (`.noHost`; a cluster request goes back to the
    /// head of its queue). If the session became Active meanwhile: `.active`. If it is gone or on
    /// another host: the outcome of claiming afresh.
    func reassignHandoff(_ claim: AllocationClaim, failedHostId: String) async throws -> ClaimOutcome

    /// The title's allocation with this session id, Allocating or Active.
    func allocation(titleId: String, sessionId: String) async throws -> Allocation?

    /// The session waiting for this host's acknowledgement, if any, with the host's revision,
    /// read together (one statement: this is the held poll's read).
    func pendingHandoff(hostId: String) async throws -> PendingHandoff?

    /// The game finished: the session is removed and the host becomes Terminating until its
    /// agent reports StandingBy again. Throws `StoreError.unknownHost`, or `sessionMismatch` when
    /// the host does not hold that session.
    func endSession(hostId: String, sessionId: String, at now: Date) async throws -> HostRecord

    // MARK: Cluster queue

    /// Queues a cluster request at the tail of its title's queue, or, when it is queued already,
    /// records the poll. Returns the ticket with its position.
    func enqueueCluster(titleId: String, sessionId: String, at now: Date) async throws -> ClusterTicket

    /// The queued ticket, if any; with `polledAt`, records that its caller polled.
    func ticket(titleId: String, sessionId: String, polledAt: Date?) async throws -> ClusterTicket?

    /// Takes the head of the title's queue and a live StandingBy host that declared no sandbox,
    /// cloud game or game mode, in one transaction: the ticket leaves the queue and the host is
    /// Allocating with the cluster session. `nil` when the queue is empty or no host is free.
    /// Hosts in `unreachableHostIds` (their hand-off channel is down) are passed over; the host
    /// is chosen as `strategy` says (see `claimHost`).
    func claimHostForQueue(
        titleId: String, now: Date, liveSince: Date, acknowledgeBy: Date, excluding unreachableHostIds: Set<String>,
        strategy: AllocationStrategy
    ) async throws -> Allocation?

    /// Removes a queued ticket whose caller gave up waiting. False when there was none.
    func withdrawTicket(titleId: String, sessionId: String) async throws -> Bool

    /// Number of queued cluster requests of the title.
    func queueLength(titleId: String) async throws -> Int

    /// Titles with at least one queued cluster request.
    func titlesWithQueuedClusters() async throws -> [String]

    // MARK: Metrics (read when /metrics is scraped, so every instance on one database agrees)

    /// The number of hosts per title, region and state, in one read; only groups that have
    /// hosts. Equivalent SQL: `SELECT title_id, region, state, COUNT(*) FROM hosts GROUP BY 1, 2, 3`.
    func hostCounts() async throws -> [HostCount]

    /// Per title with queued cluster requests: how many, and when the oldest queued (its
    /// `enqueuedAt`); titles with an empty queue are left out.
    func queueSummaries() async throws -> [QueueSummary]

    // MARK: Upkeep

    /// Expires what the policy says (see `SweepPolicy`).
    func sweep(_ policy: SweepPolicy) async throws -> SweepReport

    /// Closes the database; no call may follow.
    func close() async throws
}

extension StoreError {
    public static func sessionMismatch(_ hostId: String, _ sessionId: String) -> StoreError {
        StoreError(code: .sessionNotOnHost, message: "session host \(hostId) does not hold session \(sessionId)")
    }
}

extension InventoryStore {
    /// `claimHostForQueue` with every host a candidate, packed.
    public func claimHostForQueue(titleId: String, now: Date, liveSince: Date, acknowledgeBy: Date) async throws
        -> Allocation?
    {
        try await claimHostForQueue(
            titleId: titleId, now: now, liveSince: liveSince, acknowledgeBy: acknowledgeBy, excluding: [],
            strategy: .packed)
    }

    /// `claimHostForQueue`, packed (gsmsd's default strategy).
    public func claimHostForQueue(
        titleId: String, now: Date, liveSince: Date, acknowledgeBy: Date, excluding unreachableHostIds: Set<String>
    ) async throws -> Allocation? {
        try await claimHostForQueue(
            titleId: titleId, now: now, liveSince: liveSince, acknowledgeBy: acknowledgeBy,
            excluding: unreachableHostIds, strategy: .packed)
    }
}
