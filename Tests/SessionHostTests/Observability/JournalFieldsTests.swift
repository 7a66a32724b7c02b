import Foundation
import Logging
import SessionHostLogging
import Systemd
import Testing

@Suite("structured journal entries")
struct JournalFieldsTests {
    @Test("metadata keys become journal field names: upper case, A-Z 0-9 _ only, never a leading _")
    func fieldNames() {
        let cases: [(String, String?)] = [
            ("session_id", "SESSION_ID"),
            ("session_host_id", "SESSION_HOST_ID"),
            ("title_id", "TITLE_ID"),
            ("region", "REGION"),
            ("hb.request.id", "HB_REQUEST_ID"),
            ("peer-uid", "PEER_UID"),
            ("_trusted", "TRUSTED"),
            ("__", nil),
            ("", nil),
            ("9lives", "F_9LIVES"),
            ("Zürich", "Z_RICH"),
            ("message", "META_MESSAGE"),
            ("priority", "META_PRIORITY"),
            ("syslog_identifier", "META_SYSLOG_IDENTIFIER"),
            ("code_line", "META_CODE_LINE"),
            ("message_id", "META_MESSAGE_ID"),
            ("errno", "META_ERRNO"),
        ]
        for (key, expected) in cases {
            #expect(JournalFields.fieldName(forMetadataKey: key) == expected, "\(key)")
        }
        let long = JournalFields.fieldName(forMetadataKey: String(repeating: "k", count: 100))
        #expect(long?.count == 64)
        for (key, _) in cases {
            guard let name = JournalFields.fieldName(forMetadataKey: key) else { continue }
            #expect(
                name.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
            #expect(!name.hasPrefix("_") && !(name.first?.isNumber ?? true))
        }
    }

    @Test("swift-log levels map to syslog priorities")
    func priorities() {
        let expected: [Logger.Level: Int] = [
            .trace: 7, .debug: 7, .info: 6, .notice: 5, .warning: 4, .error: 3, .critical: 2,
        ]
        for level in Logger.Level.allCases {
            #expect(JournalFields.priority(level) == expected[level])
        }
    }

    @Test(
        "an entry has MESSAGE with the context, PRIORITY, SYSLOG_IDENTIFIER, the code location and one field per metadata key"
    )
    func entry() {
        let fields = JournalFields.entry(
            identifier: "sessionhostd", level: .error, message: "cannot take the hand-off",
            metadata: [
                "session_id": "3536d3e6", "session_host_id": "vm-1", "title_id": "1234ABCD", "error": "disk full",
            ],
            file: "SessionHostAgent/ControlPlaneLink.swift", function: "take(_:)", line: 42)
        let names = fields.map(\.name)
        #expect(
            names == [
                "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "LOG_LEVEL", "CODE_FILE", "CODE_LINE", "CODE_FUNC",
                "ERROR", "SESSION_HOST_ID", "SESSION_ID", "TITLE_ID",
            ])
        let values = Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        #expect(
            values["MESSAGE"]
                == #"cannot take the hand-off error="disk full" session_host_id=vm-1 session_id=3536d3e6 title_id=1234ABCD"#
        )
        #expect(values["PRIORITY"] == "3")
        #expect(values["SYSLOG_IDENTIFIER"] == "sessionhostd")
        #expect(values["LOG_LEVEL"] == "error")
        #expect(values["CODE_LINE"] == "42")
        #expect(values["CODE_FUNC"] == "take(_:)")
        #expect(values["SESSION_ID"] == "3536d3e6")
        #expect(values["SESSION_HOST_ID"] == "vm-1")
        #expect(values["TITLE_ID"] == "1234ABCD")
        #expect(values["ERROR"] == "disk full", "field values are raw, not logfmt-quoted")

        let bare = JournalFields.entry(
            identifier: "gsmsd", level: .info, message: "gsmsd stopped", metadata: [:], file: "f", function: "g",
            line: 1)
        #expect(bare.first?.value == "gsmsd stopped")
    }

    @Test("JOURNAL_STREAM counts only when it names this process's stderr")
    func journalStream() throws {
        #expect(SystemdJournal.parseJournalStream("8:12345")! == (8, 12345))
        for bad in [nil, "", "8", "8:", ":5", "a:b", "1:2:3", "-1:2"] as [String?] {
            #expect(SystemdJournal.parseJournalStream(bad) == nil, "\(bad ?? "nil")")
        }
        var status = stat()
        try #require(fstat(STDERR_FILENO, &status) == 0)
        #expect(SystemdJournal.stderrIsJournal(environment: "\(status.st_dev):\(status.st_ino)"))
        #expect(!SystemdJournal.stderrIsJournal(environment: "\(status.st_dev):\(status.st_ino + 1)"))
        #expect(!SystemdJournal.stderrIsJournal(environment: nil))
        #expect(
            DaemonLogging.destination(environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"]) == .journal)
        #expect(DaemonLogging.destination(environment: ["JOURNAL_STREAM": "0:0"]) == .logfmt)
        #expect(DaemonLogging.destination(environment: [:]) == .logfmt)
    }
}
