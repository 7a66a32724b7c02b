public import FoundationEssentials

/// How a host's assignment revision advances, the same in every store.
///
/// Each change of a host's session (claimed, confirmed, moved away, ended, swept) sets
/// `revision = max(revision + 1, floor(now))`, where `floor(now)` is the store's clock in
/// microseconds. So revisions only grow while the host row lives, and a row gets ahead of the
/// clock's value only if its host changes more than 1,000 times in one millisecond: a host
/// registered again after deregistering (a new row, a millisecond or more later) starts above
/// anything its old row reached, and so does a recreated database, as long as its clock is not
/// behind.
public enum AssignmentRevision {
    /// The lowest revision a change made at `now` takes: microseconds since 1970.
    public static func floor(_ now: Date) -> Int64 { now.storeMilliseconds * 1000 }

    /// Whether an agent's report based on `basis` (the newest revision it had seen) predates
    /// the host's `current` revision: gsmsd then takes it as a sign of life only, not as the
    /// agent's state. A report without a basis (an older agent) is never stale.
    public static func isStale(basis: Int64?, current: Int64) -> Bool {
        guard let basis else { return false }
        return basis < current
    }
}
