import Foundation
import SessionHostSDK
import Testing

/// Outside the journal both daemons write logfmt on stderr, with the session's ids as keys,
/// at the level `--log-level` asks for.
@Suite("logfmt logs end to end", .serialized)
struct LoggingEndToEndTests {
    static let sessionId = "7a0e1c2a-0000-4000-8000-000000000001"

    /// The key-value pairs of one logfmt line (quoted values unescaped).
    static func fields(_ line: Substring) -> [String: String] {
        var fields: [String: String] = [:]
        var rest = line[...]
        while !rest.isEmpty {
            rest = rest.drop(while: { $0 == " " })
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = String(rest[..<equals])
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                var escaped = false
                var end = rest.index(after: rest.startIndex)
                while end < rest.endIndex {
                    if escaped {
                        escaped = false
                    } else if rest[end] == "\\" {
                        escaped = true
                    } else if rest[end] == "\"" {
                        break
                    }
                    end = rest.index(after: end)
                }
                let upTo = end < rest.endIndex ? rest.index(after: end) : end
                value = LogfmtFormatterTests.unquote(String(rest[..<upTo]))
                rest = rest[upTo...]
            } else {
                let end = rest.firstIndex(of: " ") ?? rest.endIndex
                value = String(rest[..<end])
                rest = rest[end...]
            }
            fields[key] = value
        }
        return fields
    }

    /// The parsed lines of a log whose `msg` is `message`.
    static func entries(_ log: String, message: String) -> [[String: String]] {
        log.split(separator: "\n").map(fields).filter { $0["msg"] == message }
    }

    @Test("gsmsd and the agent log the session with its ids: time, level, msg, session_id, session_host_id, title_id")
    func sessionFields() async throws {
        let gsms = try await GSMSProcess()
        let agent = try await EndToEndHandoffTests.agent(gsms, hostId: "vm-1")
        let game = AgentClient(socketPath: agent.socketPath)
        _ = try await game.ready()
        try await EndToEndHandoffTests.waitForHost(gsms, "vm-1", state: "StandingBy")
        #expect(try await gsms.allocate(["sessionId": Self.sessionId]).status == 200)

        let allocated = try #require(Self.entries(gsms.log, message: "session host allocated").first, "\(gsms.log)")
        #expect(allocated["level"] == "info")
        #expect(allocated["time"]?.hasSuffix("Z") == true)
        #expect(allocated["session_id"] == Self.sessionId)
        #expect(allocated["session_host_id"] == "vm-1")
        #expect(allocated["title_id"] == "1234")
        #expect(allocated["region"] == "WestUS")

        try await Deadline.waitUntil("the agent to log the acknowledgement") {
            !Self.entries(agent.log, message: "hand-off acknowledged").isEmpty
        }
        let acknowledged = try #require(Self.entries(agent.log, message: "hand-off acknowledged").first)
        #expect(acknowledged["session_id"] == Self.sessionId)
        #expect(acknowledged["session_host_id"] == "vm-1", "every agent entry names its host")
        #expect(acknowledged["title_id"] == "1234")
        let active = try #require(Self.entries(agent.log, message: "host is Active").first, "\(agent.log)")
        #expect(active["session_id"] == Self.sessionId)
        #expect(Self.entries(agent.log, message: "host is StandingBy").allSatisfy { $0["session_id"] == nil })
        try await agent.stop()
        try await gsms.stop()
    }

    @Test("--log-level warning leaves out info lines; the default logs them")
    func logLevel() async throws {
        let quiet = try await GSMSProcess(arguments: ["--log-level", "warning"])
        #expect(try await quiet.client.send(.GET, "/metrics").status == 200)
        try await quiet.stop()
        #expect(!quiet.log.contains("level=info"), "\(quiet.log)")

        let normal = try await GSMSProcess()
        try await normal.stop()
        #expect(!Self.entries(normal.log, message: "gsmsd listening").isEmpty, "\(normal.log)")
        #expect(normal.log.split(separator: "\n").allSatisfy { $0.hasPrefix("time=") }, "\(normal.log)")
    }
}
