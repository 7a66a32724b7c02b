/// How a claim chooses among the live StandingBy hosts that match it, inside one location
/// (locations are always tried strictly in order first).
public enum AllocationStrategy: String, Sendable, CaseIterable {
    /// The host whose VM already has the most hosts holding a session (Allocating or Active);
    /// among those, the longest-StandingBy host. Sessions fill VMs that are busy already, so
    /// that whole VMs empty out and can be removed (scale-in). gsmsd's default.
    case packed
    /// The longest-StandingBy host, whichever VM it runs on: sessions spread over the fleet.
    case distributed
}
