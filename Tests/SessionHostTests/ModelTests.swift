import Foundation
import SessionHostModel
import Testing

@Suite("Wire models and session rules")
struct ModelTests {
    @Test("GUIDs in canonical form are accepted in either case and stored in lower case")
    func guidValidation() throws {
        #expect(
            try SessionRules.validatedSessionID("3536D3E6-E85D-4F47-B898-9617D19DABCD")
                == "3536d3e6-e85d-4f47-b898-9617d19dabcd")
        for bad in [
            "", "nope", "3536d3e6e85d4f47b8989617d19dabcd", "{3536d3e6-e85d-4f47-b898-9617d19dabcd}",
            "3536d3e6-e85d-4f47-b898-9617d19dabcg", "3536d3e6-e85d-4f47-b898_9617d19dabcd",
        ] {
            #expect(throws: InvalidInput.self) { try SessionRules.validatedSessionID(bad) }
        }
    }

    @Test("Cookies are limited to 4096 bytes of UTF-8, not characters")
    func cookieLimit() throws {
        try SessionRules.validateCookie(String(repeating: "a", count: 4096))
        try SessionRules.validateCookie(nil)
        let error = #expect(throws: InvalidInput.self) {
            try SessionRules.validateCookie(String(repeating: "a", count: 4097))
        }
        #expect(error?.code == .sessionCookieTooLarge)
        // 2,049 two-byte characters are 4,098 bytes.
        #expect(throws: InvalidInput.self) { try SessionRules.validateCookie(String(repeating: "é", count: 2049)) }
    }

    @Test("Error codes are values in code and the same plain strings on the wire")
    func errorCodes() throws {
        let code = InvalidInput.Code.invalidSessionId
        #expect(code.rawValue == "InvalidSessionId")
        #expect("\(code)" == "InvalidSessionId")
        #expect(String(decoding: try JSONEncoder().encode([code]), as: UTF8.self) == #"["InvalidSessionId"]"#)
        #expect(
            try JSONDecoder().decode([InvalidInput.Code].self, from: Data(#"["InvalidSessionId"]"#.utf8)) == [
                .invalidSessionId
            ])
        // A code this build has no member for is still a code.
        #expect(
            try JSONDecoder().decode([InvalidInput.Code].self, from: Data(#"["SomethingNew"]"#.utf8)).first?.rawValue
                == "SomethingNew")
        #expect(InvalidInput.Code(rawValue: "InvalidSessionId") == .invalidSessionId)
        #expect(InvalidInput.Code.invalidSessionId != .invalidTitleId)
    }

    @Test("describe(path:) says why a file cannot be read, asking the system about the path")
    func fileErrorDescription() throws {
        let directory = try TemporaryDirectory()
        #expect(FileErrorDescription.describe(path: directory.file("missing")) == "no such file")
        #expect(FileErrorDescription.describe(path: directory.file("missing/below")) == "no such file")
        #expect(FileErrorDescription.describe(path: directory.path) == "it is a directory, not a file")
        let file = directory.file("plain")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        #expect(FileErrorDescription.describe(path: file + "/below") == "a part of the path is not a directory")
        if getuid() != 0 {
            try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: file)
            #expect(
                FileErrorDescription.describe(path: file)
                    == "permission denied: this user (uid \(getuid())) may not read it")
        }
        // A readable file gives the system no reason; the error given, or "unreadable", is said.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        #expect(FileErrorDescription.describe(path: file) == "unreadable")
        #expect(
            FileErrorDescription.describe(InvalidInput(code: .configUnreadable, message: "odd"), path: file) == "odd")
    }

    @Test("Ports parse from NAME:PROTOCOL:INTERNAL:EXTERNAL and encode in the reference shape")
    func portSpecification() throws {
        let port = try PortSpecification(parsing: "game:UDP:7777:30000")
        #expect(port == PortSpecification(name: "game", transport: .udp, internalPort: 7777, externalPort: 30000))
        let json = String(decoding: try JSONEncoder().encode(port.mapping), as: UTF8.self)
        let object = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["Key"] as? String == "game")
        let value = try #require(object["Value"] as? [String: Int])
        #expect(value == ["internal": 7777, "external": 30000])
        for bad in [
            "game", "game:udp:7777", "game:sctp:1:2", "game:udp:0:2", "game:udp:1:70000", ":udp:1:2", "a b:udp:1:2",
        ] {
            #expect(throws: InvalidInput.self, "\(bad)") { try PortSpecification(parsing: bad) }
        }
    }

    @Test("Request members match case-insensitively; wrong types are refused")
    func caseInsensitiveMembers() throws {
        let heartbeat = try JSONDecoder().decode(
            HeartbeatRequest.self, from: Data(#"{"Health":"unhealthy","PLAYERS":[{"PlayerId":"p1"}],"extra":1}"#.utf8))
        #expect(heartbeat == HeartbeatRequest(health: .unhealthy, players: [Player(playerId: "p1")]))
        let allocation = try JSONDecoder().decode(
            AllocationRequest.self, from: Data(#"{"SessionID":"x","sessionCOOKIE":"c"}"#.utf8))
        #expect(allocation == AllocationRequest(sessionId: "x", sessionCookie: "c"))
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(HeartbeatRequest.self, from: Data(#"{"health":"Sick"}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(HeartbeatRequest.self, from: Data(#"{"players":"p1"}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(AllocationRequest.self, from: Data(#"{"sessionCookie":"c"}"#.utf8))
        }
    }

    @Test("Decoding errors are described by member")
    func decodingErrorDescription() {
        do {
            _ = try JSONDecoder().decode(HeartbeatRequest.self, from: Data(#"{"players":[{"name":"x"}]}"#.utf8))
            Issue.record("expected an error")
        } catch {
            #expect(DecodingErrorDescription.describe(error).contains("playerId"))
        }
    }
}
