public import Logging

/// Writes each record as one logfmt line on stderr (`LogfmtFormatter`): what the daemons log
/// when stderr is not the journal (a terminal, a file, a test's pipe).
public struct LogfmtLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let write: @Sendable (String) -> Void

    /// Writes to stderr.
    public init(logLevel: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.init(
            logLevel: logLevel, metadataProvider: metadataProvider,
            write: { StandardErrorWriter.shared.write(line: $0) })
    }

    /// Hands each line (without its new line) to `write`.
    public init(
        logLevel: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil,
        write: @escaping @Sendable (String) -> Void
    ) {
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = RecordMetadata.merge(handler: metadata, provider: metadataProvider, event: event)
        write(
            LogfmtFormatter.line(
                time: LogfmtFormatter.timestamp(), level: event.level, message: event.message.description,
                metadata: merged))
    }
}

/// The metadata of one record: the logger's, then the provider's, then the call's (later wins),
/// and the event's error, if any, as `error` unless the call gave one.
enum RecordMetadata {
    static func merge(handler: Logger.Metadata, provider: Logger.MetadataProvider?, event: LogEvent) -> Logger.Metadata
    {
        var merged = handler
        if let provided = provider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let given = event.metadata {
            merged.merge(given) { _, new in new }
        }
        if let error = event.error, merged["error"] == nil {
            merged["error"] = .string("\(error)")
        }
        return merged
    }
}
