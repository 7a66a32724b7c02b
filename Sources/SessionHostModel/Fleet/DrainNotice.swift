#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A drain of a session host: it takes no new session, its running session should end by
/// `deadline`, and once every slot of its VM is idle the agent reports Drained (docs/operations.md,
/// "Drain"). The same value travels from gsmsd to the agent (`HostStatus.drain`), from the agent
/// to gsmsd (`HostRegistration.drain`, `HostHeartbeat.drain`: a drain asked for on the VM) and
/// to the game (`HostInfo.drain`, `HostEvent.drain`, GSDK `nextScheduledMaintenanceUtc`).
public struct DrainNotice: Codable, Sendable, Equatable {
    /// ISO 8601 (UTC): the running session should end before this; at this time the agent ends
    /// what is left of it, so that a drain always finishes.
    public var deadline: String
    /// Who asked for the drain.
    public var source: DrainSource
    /// Why, in words (e.g. "kernel upgrade"), at most `maximumReasonBytes`.
    public var reason: String?

    /// The longest reason.
    public static let maximumReasonBytes = 256

    public init(deadline: String, source: DrainSource, reason: String? = nil) {
        self.deadline = deadline
        self.source = source
        self.reason = reason
    }

    /// The deadline as a date, if it is ISO 8601.
    public var deadlineDate: Date? { Self.parse(deadline) }

    /// Checks the deadline and the reason's length.
    public func validate() throws(InvalidInput) {
        guard deadlineDate != nil else {
            throw InvalidInput(
                code: .invalidDrain, message: "drain deadline must be an ISO 8601 time, got '\(deadline.prefix(64))'")
        }
        if let reason, reason.utf8.count > Self.maximumReasonBytes {
            throw InvalidInput(
                code: .invalidDrain, message: "drain reason is longer than \(Self.maximumReasonBytes) bytes")
        }
    }

    /// ISO 8601 (UTC) with milliseconds, as every drain deadline is written.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Parses ISO 8601 with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
            ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}

/// Who asked for a drain.
public enum DrainSource: String, Codable, Sendable, CaseIterable {
    /// The operator API of gsmsd (`POST /operator/v1/drains`, `sessionhostctl fleet drain`).
    case `operator`
    /// The VM itself (`sessionhostctl drain` on the agent's socket).
    case local
}
