public import Logging

/// How a log record becomes the fields of a journal entry.
///
/// | field | value |
/// |---|---|
/// | `MESSAGE` | the message, then the metadata in logfmt (`hand-off acknowledged session_id=…`), so plain `journalctl` output keeps the context |
/// | `PRIORITY` | syslog priority: trace and debug 7, info 6, notice 5, warning 4, error 3, critical 2 |
/// | `SYSLOG_IDENTIFIER` | the daemon (`sessionhostd`, `gsmsd`) |
/// | `LOG_LEVEL` | swift-log's level name (`trace` and `debug` share priority 7) |
/// | `CODE_FILE`, `CODE_LINE`, `CODE_FUNC` | where the record was logged |
/// | one field per metadata key | `session_id` → `SESSION_ID`, `session_host_id` → `SESSION_HOST_ID`, `title_id` → `TITLE_ID` … |
///
/// A metadata key becomes a field name by upper-casing it and replacing every character other
/// than `A-Z`, `0-9` and `_` with `_`; leading underscores are dropped (names starting with `_`
/// are the journal's trusted fields), a name starting with a digit gets `F_` in front, and names
/// are cut at 64 characters. A key that would take one of the fields above, or another name the
/// journal gives a meaning (`MESSAGE_ID`, `ERRNO`, `SYSLOG_*`, `CODE_*`, …), gets `META_` in front.
/// Nested metadata is flattened (`request.id` → `REQUEST_ID`).
public enum JournalFields {
    /// The syslog priority of a swift-log level.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// The journal field name for a metadata key, or nil when nothing is left of it.
    public static func fieldName(forMetadataKey key: String) -> String? {
        var name = ""
        for scalar in key.unicodeScalars {
            switch scalar {
            case "a"..."z": name.unicodeScalars.append(Unicode.Scalar(scalar.value - 0x20)!)
            case "A"..."Z", "0"..."9", "_": name.unicodeScalars.append(scalar)
            default: name += "_"
            }
        }
        while name.hasPrefix("_") { name.removeFirst() }
        guard let first = name.unicodeScalars.first else { return nil }
        if ("0"..."9").contains(first) { name = "F_" + name }
        if isReserved(name) { name = "META_" + name }
        return String(name.prefix(maximumNameLength))
    }

    /// The fields of one entry, in order: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, LOG_LEVEL, the
    /// code location, then the metadata (keys sorted).
    public static func entry(
        identifier: String, level: Logger.Level, message: String, metadata: Logger.Metadata,
        file: String, function: String, line: UInt
    ) -> [(name: String, value: String)] {
        let pairs = LogfmtFormatter.pairs(metadata)
        var fields: [(name: String, value: String)] = [
            ("MESSAGE", pairs.isEmpty ? message : message + " " + pairs),
            ("PRIORITY", String(priority(level))),
            ("SYSLOG_IDENTIFIER", identifier),
            ("LOG_LEVEL", level.rawValue),
            ("CODE_FILE", file),
            ("CODE_LINE", String(line)),
            ("CODE_FUNC", function),
        ]
        var flattened: [(String, String)] = []
        LogfmtFormatter.flatten(metadata, prefix: "", into: &flattened)
        for (key, value) in flattened.sorted(by: { $0.0 < $1.0 }) {
            if let name = fieldName(forMetadataKey: key) { fields.append((name, value)) }
        }
        return fields
    }

    /// The journal refuses longer field names.
    public static let maximumNameLength = 64

    /// Names this handler writes itself, and names the journal interprets.
    static let reservedNames: Set<String> = [
        "MESSAGE", "MESSAGE_ID", "PRIORITY", "LOG_LEVEL", "ERRNO", "INVOCATION_ID", "USER_INVOCATION_ID",
        "UNIT", "USER_UNIT", "DOCUMENTATION", "TID",
    ]
    static let reservedPrefixes = ["SYSLOG_", "CODE_", "OBJECT_", "COREDUMP_"]

    static func isReserved(_ name: String) -> Bool {
        reservedNames.contains(name) || reservedPrefixes.contains(where: { name.hasPrefix($0) })
    }
}
