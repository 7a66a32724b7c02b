/// The lifecycle state of a session host (SPEC §1).
///
/// ```
/// Initializing -> StandingBy -> Allocating -> Active -> Terminating -> StandingBy ...
/// any monitored state -> Unhealthy (missed heartbeats); Unhealthy -> previous state once healthy
/// ```
public enum HostState: String, Codable, Sendable, CaseIterable {
    case initializing = "Initializing"
    case standingBy = "StandingBy"
    case allocating = "Allocating"
    case active = "Active"
    case terminating = "Terminating"
    case unhealthy = "Unhealthy"
}
