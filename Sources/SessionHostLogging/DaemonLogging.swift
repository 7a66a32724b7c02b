public import Logging
import Systemd

/// Sets up the logging of a daemon (`sessionhostd`, `gsmsd`) once, at start: structured journal
/// entries when stderr is the journal, logfmt lines on stderr otherwise, at `level` for every
/// logger of the process.
public enum DaemonLogging {
    /// Where the records go.
    public enum Destination: String, Sendable, Equatable {
        case journal
        case logfmt
    }

    /// The journal when `JOURNAL_STREAM` names this process's stderr (systemd.exec(5)), else logfmt.
    public static func destination(environment: [String: String]) -> Destination {
        SystemdJournal.stderrIsJournal(environment: environment["JOURNAL_STREAM"]) ? .journal : .logfmt
    }

    /// A handler for `destination`.
    public static func handler(for destination: Destination, identifier: String, level: Logger.Level) -> any LogHandler
    {
        switch destination {
        case .journal: JournalLogHandler(identifier: identifier, logLevel: level)
        case .logfmt: LogfmtLogHandler(logLevel: level)
        }
    }

    /// Bootstraps swift-log for the whole process (call once, from the executable's command)
    /// and returns where records go.
    @discardableResult
    public static func bootstrap(identifier: String, level: Logger.Level, environment: [String: String]) -> Destination
    {
        let destination = destination(environment: environment)
        LoggingSystem.bootstrap { _ in handler(for: destination, identifier: identifier, level: level) }
        return destination
    }
}
