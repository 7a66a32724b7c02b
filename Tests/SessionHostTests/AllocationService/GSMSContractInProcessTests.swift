import AllocationStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SessionHostModel
import Testing
import TitleTokens

@testable import AllocationService

/// Contract checks of gsmsd's answers (headers, error bodies, authentication) against gsmsd
/// built in this process: no process, no port (`GSMSInProcess`).
@Suite("gsmsd contract, in process")
struct GSMSContractInProcessTests {
    static let guid = "3536d3e6-e85d-4f47-b898-9617d19dabcd"

    static func field(_ name: String) -> HTTPField.Name { HTTPField.Name(name)! }

    static func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
    }

    @Test("every answer carries the SPEC §2 headers and a JSON error body with its members in order")
    func standardHeaders() async throws {
        let authorization = try await GSMSProcess.authorization(["1234"])
        try await GSMSInProcess().test { client in
            let missing = try await client.execute(
                uri: "/nowhere", method: .get, headers: [Self.field("X-XblCorrelationId"): "corr-123"])
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "application/json")
            #expect(missing.headers[.cacheControl] == "no-store")
            #expect(missing.headers[Self.field("X-Content-Type-Options")] == "nosniff")
            #expect(missing.headers[Self.field("X-XblCorrelationId")] == "corr-123")
            #expect(
                String(buffer: missing.body).hasPrefix(#"{"code":"NotFound","message":"#),
                "\(String(buffer: missing.body))")

            let busy = try await client.execute(
                uri: "/titles/1234/sessionhosts", method: .post, headers: [.authorization: authorization.1],
                body: ByteBuffer(string: #"{"sessionId": "\#(Self.guid)"}"#))
            #expect(busy.status == .serviceUnavailable)
            #expect(busy.headers[Self.field("Retry-After")] == "1")
            #expect(Self.json(busy.body)["code"] as? String == "NoStandingByHost")
            let correlation = try #require(busy.headers[Self.field("X-XblCorrelationId")])
            #expect(
                correlation.count == 36 && correlation.split(separator: "-").count == 5, "a fresh GUID: \(correlation)")

            let wrongMethod = try await client.execute(
                uri: "/titles/1234/sessionhosts", method: .delete, headers: [.authorization: authorization.1])
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "POST")
        }
    }

    @Test("agents: 401 without the fleet secret or host key, 404 for an unsubscribed title, each with its code")
    func agentAuthentication() async throws {
        @Sendable func registration(title: String) -> ByteBuffer {
            ByteBuffer(
                string:
                    #"{"titleId": "\#(title)", "region": "WestUS", "hostName": "vm-1.example.net", "secureContext": "", "state": "StandingBy", "health": "Healthy", "portMappings": [{"Key": "game", "Value": {"internal": 7777, "external": 30000}}]}"#
            )
        }
        let body = registration(title: "1234")
        let fleet = "Bearer " + GSMSProcess.fleetSecret
        let key = GSMSProcess.hostKey("vm-1")
        let cases: [(HTTPFields, HTTPResponse.Status, String)] = [
            ([:], .unauthorized, "MissingAgentToken"),
            ([.authorization: "Bearer not-the-fleet-secret-at-all-0123456789"], .unauthorized, "InvalidAgentToken"),
            ([.authorization: fleet], .unauthorized, "MissingHostKey"),
            ([.authorization: fleet, Self.field("SessionHost-Key"): "not a key!"], .unauthorized, "MalformedHostKey"),
        ]
        try await GSMSInProcess().test { client in
            for (headers, status, code) in cases {
                let answer = try await client.execute(
                    uri: "/agent/v1/hosts/vm-1", method: .put, headers: headers, body: body)
                #expect(answer.status == status, "\(code): \(String(buffer: answer.body))")
                #expect(Self.json(answer.body)["code"] as? String == code)
                #expect(answer.headers[.wwwAuthenticate] == "Bearer")
            }
            let unsubscribed = try await client.execute(
                uri: "/agent/v1/hosts/vm-1", method: .put,
                headers: [.authorization: fleet, Self.field("SessionHost-Key"): key],
                body: registration(title: "9999"))
            #expect(unsubscribed.status == .notFound)
            #expect(Self.json(unsubscribed.body)["code"] as? String == "TitleNotSubscribed")
            let registered = try await client.execute(
                uri: "/agent/v1/hosts/vm-1", method: .put,
                headers: [.authorization: fleet, Self.field("SessionHost-Key"): key], body: body)
            #expect(registered.status == .ok, "\(String(buffer: registered.body))")
            #expect(Self.json(registered.body)["state"] as? String == "StandingBy")
        }
    }

    @Test(
        "the store's, the title tokens' and validation's errors get their HTTP statuses at the edge, codes and messages kept"
    )
    func domainErrorStatuses() throws {
        let cases: [(any Error, HTTPResponse.Status, String, String?)] = [
            (
                StoreError.unknownHost("vm-1"), .notFound, "UnknownHost",
                "no session host vm-1 is registered; register it with PUT first"
            ),
            (StoreError.hostHasSession("vm-1", "s"), .conflict, "HostHasSession", "session host vm-1 holds session s"),
            (StoreError.titleMismatch("vm-1"), .conflict, "TitleMismatch", nil),
            (
                StoreError.unavailable("disk on fire"), .serviceUnavailable, "StoreUnavailable",
                "the inventory database is unavailable; retry shortly"
            ),
            (StoreError.schemaTooNew(found: 9, known: 3), .internalServerError, "InternalError", nil),
            (TitleTokenError(code: .tokenExpired, message: "expired"), .unauthorized, "TokenExpired", "expired"),
            (
                InvalidInput(code: .invalidSessionId, message: "not a GUID"), .badRequest, "InvalidSessionId",
                "not a GUID"
            ),
            (APIError(.forbidden, code: .titleNotAllowed, "no"), .forbidden, "TitleNotAllowed", "no"),
        ]
        for (error, status, code, message) in cases {
            let answer = try #require(APIError.answer(for: error), "\(error)")
            #expect(answer.status == status, "\(error)")
            #expect(answer.code.rawValue == code, "\(error)")
            if let message { #expect(answer.message == message, "\(error)") }
            #expect(APIResponseMiddleware<GSMSRequestContext>.status(for: error) == Int(status.code))
        }
        #expect(APIError.answer(for: StoreError.unavailable("x"))?.headers["Retry-After"] == "1")
        #expect(
            APIError.answer(for: TitleTokenError(code: .invalidToken, message: "x"))?.headers["WWW-Authenticate"]
                == "XBL3.0")
        #expect(APIError.answer(for: CancellationError()) == nil, "anything else is unexpected: 500 without details")
        #expect(APIResponseMiddleware<GSMSRequestContext>.status(for: CancellationError()) == 500)
    }
}
