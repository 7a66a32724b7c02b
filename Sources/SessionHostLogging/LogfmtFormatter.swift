public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Formats log records as logfmt lines: `time=… level=… msg="…" key=value …`.
///
/// - `time` is UTC with milliseconds (`2026-11-22T02:03:43.123Z`), `level` is swift-log's name
///   (`trace` … `critical`), `msg` the message; then the metadata, keys in sorted order.
/// - A value is written bare when it is made only of printable characters other than space,
///   `"`, `=` and `\`; otherwise (and when empty) it is quoted, with `\` and `"` escaped as `\\`
///   and `\"`, new line, carriage return and tab as `\n`, `\r`, `\t`, and other control
///   characters as `\u00XX`. So a line is always one line, and parsers split it unambiguously.
/// - Keys keep letters, digits, `_`, `.`, `-` and `/`; any other character becomes `_`.
///   Nested metadata is flattened with dots (`request.id=…`); lists are written `[a, b]`.
public enum LogfmtFormatter {
    /// One line (without the final new line).
    public static func line(
        time: String, level: Logger.Level, message: String, metadata: Logger.Metadata
    ) -> String {
        var line = "time=" + time + " level=" + level.rawValue + " msg=" + quoted(message, always: true)
        let pairs = pairs(metadata)
        if !pairs.isEmpty {
            line += " "
            line += pairs
        }
        return line
    }

    /// The metadata as `key=value` pairs separated by spaces, keys sorted; empty without metadata.
    public static func pairs(_ metadata: Logger.Metadata) -> String {
        var fields: [(String, String)] = []
        flatten(metadata, prefix: "", into: &fields)
        fields.sort { $0.0 < $1.0 }
        return fields.map { key($0.0) + "=" + quoted($0.1) }.joined(separator: " ")
    }

    /// The value, quoted and escaped when it must be (or always, for `msg`).
    public static func quoted(_ value: String, always: Bool = false) -> String {
        var needsQuotes = always || value.isEmpty
        if !needsQuotes {
            for scalar in value.unicodeScalars where !isBare(scalar) {
                needsQuotes = true
                break
            }
        }
        guard needsQuotes else { return value }
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                    result += "\\u" + hex4(scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    /// A key with every character outside `[A-Za-z0-9_.\-/]` replaced by `_` (and `_` for an empty key).
    public static func key(_ key: String) -> String {
        if key.isEmpty { return "_" }
        var result = ""
        for scalar in key.unicodeScalars {
            let allowed =
                ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || scalar == "_" || scalar == "." || scalar == "-" || scalar == "/"
            result.unicodeScalars.append(allowed ? scalar : "_")
        }
        return result
    }

    /// The text of a metadata value: strings as they are, lists as `[a, b]`.
    public static func text(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): "[" + values.map(text).joined(separator: ", ") + "]"
        case .dictionary(let dictionary):
            "[" + dictionary.sorted { $0.key < $1.key }.map { "\($0.key): \(text($0.value))" }.joined(separator: ", ")
                + "]"
        }
    }

    /// Nested dictionaries become dotted keys.
    static func flatten(_ metadata: Logger.Metadata, prefix: String, into fields: inout [(String, String)]) {
        for (name, value) in metadata {
            if case .dictionary(let nested) = value, !nested.isEmpty {
                flatten(nested, prefix: prefix + name + ".", into: &fields)
            } else {
                fields.append((prefix + name, text(value)))
            }
        }
    }

    private static func isBare(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0...0x20, 0x22, 0x3D, 0x5C, 0x7F, 0x80...0x9F: false // controls, space, ", =, \
        default: true
        }
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: false)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// Now, as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return timestamp(seconds: Int(now.tv_sec), milliseconds: Int(now.tv_nsec / 1_000_000))
    }

    /// The UTC time `seconds` after 1970 plus `milliseconds`, as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func timestamp(seconds: Int, milliseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2) + "."
            + pad(Int32(milliseconds), 3) + "Z"
    }
}
