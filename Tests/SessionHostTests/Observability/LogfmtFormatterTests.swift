import Foundation
import Logging
import SessionHostLogging
import Synchronization
import Testing

@Suite("logfmt lines on stderr")
struct LogfmtFormatterTests {
    @Test("time, level and msg first, then the metadata in key order")
    func layout() {
        let line = LogfmtFormatter.line(
            time: "2026-11-22T02:03:43.123Z", level: .info, message: "hand-off acknowledged",
            metadata: ["session_id": "3536d3e6", "title_id": "1234ABCD", "attempt": .stringConvertible(2)])
        #expect(
            line
                == #"time=2026-11-22T02:03:43.123Z level=info msg="hand-off acknowledged" attempt=2 session_id=3536d3e6 title_id=1234ABCD"#
        )
        #expect(
            LogfmtFormatter.line(time: "t", level: .critical, message: "x", metadata: [:])
                == #"time=t level=critical msg="x""#)
    }

    @Test("values with spaces, quotes, equals signs, backslashes or control characters are quoted and escaped")
    func quoting() {
        let cases: [(String, String)] = [
            ("plain", "plain"),
            ("", #""""#),
            ("two words", #""two words""#),
            (#"say "hi""#, #""say \"hi\"""#),
            ("a=b", #""a=b""#),
            (#"C:\dir"#, #""C:\\dir""#),
            ("line1\nline2", #""line1\nline2""#),
            ("tab\there\r", #""tab\there\r""#),
            ("bell\u{07}", #""bell\u0007""#),
            ("del\u{7F}", #""del\u007f""#),
            ("Zürich/東京", "Zürich/東京"),
            ("[a, b]", #""[a, b]""#),
        ]
        for (value, expected) in cases {
            #expect(LogfmtFormatter.quoted(value) == expected, "\(value.debugDescription)")
        }
    }

    @Test("a quoted value reads back exactly, and a line is always one line")
    func roundTrip() {
        let values = ["", "a b", #"x"y\z"#, "multi\nline\r\n", "\u{01}\u{1F}", "=", "ünï"]
        for value in values {
            let line = LogfmtFormatter.line(time: "t", level: .debug, message: value, metadata: ["k": .string(value)])
            #expect(!line.contains("\n") && !line.contains("\r"))
            #expect(Self.unquote(String(line.split(separator: " k=", maxSplits: 1).last ?? "")) == value)
        }
    }

    @Test("keys keep their safe characters; nested metadata is flattened with dots; lists are written in brackets")
    func keysAndNesting() {
        #expect(LogfmtFormatter.key("session_id") == "session_id")
        #expect(LogfmtFormatter.key("hb.request.id") == "hb.request.id")
        #expect(LogfmtFormatter.key("bad key=\"x\"") == "bad_key__x_")
        #expect(LogfmtFormatter.key("") == "_")
        let pairs = LogfmtFormatter.pairs([
            "request": ["id": "r1", "path": "/v1/host"], "titles": ["1234", "5678"], "error": "boom",
        ])
        #expect(pairs == #"error=boom request.id=r1 request.path=/v1/host titles="[1234, 5678]""#)
    }

    @Test("timestamps are UTC with milliseconds")
    func timestamps() {
        #expect(LogfmtFormatter.timestamp(seconds: 0, milliseconds: 5) == "1970-01-01T00:00:00.005Z")
        #expect(LogfmtFormatter.timestamp(seconds: 1_795_312_223, milliseconds: 987) == "2026-11-22T01:50:23.987Z")
        let now = LogfmtFormatter.timestamp()
        #expect(now.count == 24 && now.hasSuffix("Z"), "\(now)")
    }

    @Test("the handler merges the logger's, the provider's and the call's metadata, and the event's error")
    func handlerMerges() {
        let lines = Mutex<[String]>([])
        let provider = Logger.MetadataProvider { ["region": "WestUS", "title_id": "provided"] }
        var handler = LogfmtLogHandler(logLevel: .info, metadataProvider: provider) { line in
            lines.withLock { $0.append(line) }
        }
        handler[metadataKey: "session_host_id"] = "vm-1"
        handler[metadataKey: "title_id"] = "handler"
        struct Boom: Error, CustomStringConvertible { var description: String { "it broke" } }
        handler.log(
            event: LogEvent(
                level: .warning, message: "state not saved", error: Boom(), metadata: ["title_id": "1234ABCD"],
                source: "tests",
                file: #fileID, function: #function, line: #line))
        let line = lines.withLock { $0.first } ?? ""
        #expect(
            line.contains(
                #" level=warning msg="state not saved" error="it broke" region=WestUS session_host_id=vm-1 title_id=1234ABCD"#
            ), "\(line)")
        #expect(line.hasPrefix("time="))
    }

    /// Reads back one logfmt value (quoted or bare), for the round trip.
    static func unquote(_ text: String) -> String {
        guard text.hasPrefix("\"") else { return text }
        var result = ""
        var scalars = Array(text.unicodeScalars.dropFirst())
        if scalars.last == "\"" { scalars.removeLast() }
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            guard scalar == "\\", index < scalars.count else {
                result.unicodeScalars.append(scalar)
                continue
            }
            let escaped = scalars[index]
            index += 1
            switch escaped {
            case "n": result += "\n"
            case "r": result += "\r"
            case "t": result += "\t"
            case "u":
                let hex = String(String.UnicodeScalarView(scalars[index..<min(index + 4, scalars.count)]))
                index += 4
                if let value = UInt32(hex, radix: 16), let decoded = Unicode.Scalar(value) {
                    result.unicodeScalars.append(decoded)
                }
            default: result.unicodeScalars.append(escaped)
            }
        }
        return result
    }
}
