public import Logging
import Systemd

/// Writes each record to the systemd journal as a structured entry (`JournalFields`) through
/// `sd_journal_sendv`: what the daemons log when stderr is the journal (`JOURNAL_STREAM`), so
/// that `journalctl -u sessionhostd SESSION_ID=…` finds every entry of a session.
///
/// When the journal cannot be written (journald stopped), the record goes to stderr as a
/// logfmt line instead, which the journal picks up from the service's stream once it is back.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    /// `SYSLOG_IDENTIFIER` of every entry.
    public let identifier: String
    private let fallback: LogfmtLogHandler

    public init(identifier: String, logLevel: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.identifier = identifier
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.fallback = LogfmtLogHandler(logLevel: logLevel)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = RecordMetadata.merge(handler: metadata, provider: metadataProvider, event: event)
        let fields = JournalFields.entry(
            identifier: identifier, level: event.level, message: event.message.description, metadata: merged,
            file: event.file, function: event.function, line: event.line)
        let sent = SystemdJournal.send(fields.map { Array(($0.name + "=" + $0.value).utf8) })
        if sent < 0 {
            var direct = fallback
            direct.metadata = merged
            direct.log(
                event: LogEvent(
                    level: event.level, message: event.message, metadata: nil, source: event.source,
                    file: event.file, function: event.function, line: event.line))
        }
    }
}
