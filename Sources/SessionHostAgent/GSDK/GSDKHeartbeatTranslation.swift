#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SessionHostModel

/// How a GSDK heartbeat drives the host lifecycle, as pure functions: which `HostAgent`
/// calls a heartbeat makes, and what the answer tells the game server. `GSDKFrontEnd` runs
/// them against the one `HostAgent` the socket API drives too.
///
/// | game says | host holds a session | the agent does | the answer |
/// |---|---|---|---|
/// | StandingBy | no | `ready` (registers the host) | Continue |
/// | StandingBy | yes, not yet taken by this game | sign of life | **Active** with `sessionConfig` |
/// | StandingBy | yes, which this game had been Active with | ends it, then `ready` (the game server restarted) | Continue |
/// | Active | yes | sign of life (players) | Continue with `sessionConfig` |
/// | Active | no (ended or withdrawn) | nothing | **Terminate** |
/// | Initializing | the one this game was Active with | ends it (the game server restarted) | Continue |
/// | Terminating, Terminated, Quarantined | yes | ends it (the host goes Terminating and is released) | Continue |
/// | anything else | | nothing | Continue |
public enum GSDKHeartbeatTranslation {
    /// A call on `HostAgent`.
    public enum Step: Sendable, Equatable {
        /// `ready()`: the host becomes StandingBy.
        case ready
        /// `heartbeat(players:)`: a sign of life; brings an Unhealthy host back.
        case signOfLife
        /// `endSession()`: the host goes Terminating and releases the session.
        case endSession
    }

    /// The calls a heartbeat reporting `gameState` makes, given the host's session and the
    /// session this game server last reported Active with (`taken`).
    public static func steps(gameState: GSDKGameState, session: String?, taken: String?) -> [Step] {
        let restarted = session != nil && session == taken
        switch gameState {
        case .standingBy:
            guard session != nil else { return [.ready] }
            return restarted ? [.endSession, .ready] : [.signOfLife]
        case .active:
            return session == nil ? [] : [.signOfLife]
        case .initializing, .invalid:
            return restarted ? [.endSession] : []
        case .terminating, .terminated, .quarantined:
            return session == nil ? [] : [.endSession]
        }
    }

    /// The operation that answers a heartbeat reporting `gameState`, once the steps ran and the
    /// host holds `session`.
    public static func operation(gameState: GSDKGameState, session: String?) -> GSDKOperation {
        switch gameState {
        case .standingBy:
            session == nil ? .continue : .active
        case .active:
            session == nil ? .terminate : .continue
        case .initializing, .invalid, .terminating, .terminated, .quarantined:
            .continue
        }
    }

    /// `sessionConfig` for a session: `sessionId` and `sessionCookie`; a session id that is not a
    /// GUID (a session from `/clusters` has a path as its id, which the C# SDK could not parse)
    /// goes in `metadata.sessionId` instead.
    public static func sessionConfig(for session: SessionInfo) -> GSDKSessionConfig? {
        guard let sessionId = session.sessionId else { return nil }
        let guid = isGUID(sessionId)
        return GSDKSessionConfig(
            sessionId: guid ? sessionId : nil,
            sessionCookie: session.sessionCookie,
            metadata: guid ? nil : ["sessionId": sessionId])
    }

    /// `nextScheduledMaintenanceUtc` for a drain: its deadline in whole seconds, UTC, with `Z`
    /// (`2026-12-07T19:00:00Z`, the shape the SDKs' own tests send).
    public static func maintenanceTime(for drain: DrainNotice?) -> String? {
        guard let date = drain?.deadlineDate else { return nil }
        return date.formatted(Date.ISO8601FormatStyle())
    }

    /// Whether `text` is a GUID in its 8-4-4-4-12 hexadecimal form.
    static func isGUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }
}
