import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SessionHostHTTP
import SessionHostModel
import Testing

@testable import SessionHostAgent

@Suite("the agent's HTTP client for gsmsd")
struct ControlPlaneHTTPTests {
    @Test("--control-plane URLs: scheme, host, port, path prefix; anything else is refused")
    func endpoints() throws {
        let plain = try ControlPlaneEndpoint(url: "http://gsms.internal:8080")
        #expect(plain == ControlPlaneEndpoint(usesTLS: false, host: "gsms.internal", port: 8080, pathPrefix: ""))
        #expect(plain.hostHeader == "gsms.internal:8080")
        let secure = try ControlPlaneEndpoint(url: "HTTPS://gsms.example.net/prefix/")
        #expect(
            secure == ControlPlaneEndpoint(usesTLS: true, host: "gsms.example.net", port: 443, pathPrefix: "/prefix"))
        #expect(secure.hostHeader == "gsms.example.net")
        let v6 = try ControlPlaneEndpoint(url: "http://[::1]:9000/")
        #expect(v6 == ControlPlaneEndpoint(usesTLS: false, host: "::1", port: 9000, pathPrefix: ""))
        #expect(v6.hostHeader == "[::1]:9000")
        #expect(v6.description == "http://[::1]:9000")
        for bad in [
            "gsms:8080", "ftp://gsms", "http://", "http:///path", "http://user@gsms", "http://gsms:0",
            "http://gsms:65536",
            "http://gsms:x", "http://gsms/a?b=c", "http://gsms/#x", "http://gs ms", "http://[::1", "http://[::1]x",
        ] {
            #expect(throws: InvalidInput.self, "\(bad)") { try ControlPlaneEndpoint(url: bad) }
        }
    }

    /// gsmsd, a proxy in front of it, and a pool of connections to the proxy.
    static func setUp() async throws -> (GSMSProcess, HTTPRecordingProxy, HTTP1Client) {
        let gsms = try await GSMSProcess()
        let proxy = try await HTTPRecordingProxy(
            listen: .tcp(host: "127.0.0.1", port: 0), upstream: .tcp(host: "127.0.0.1", port: gsms.client.port))
        let pool = ControlPlaneClient.httpClient(
            for: try ControlPlaneEndpoint(url: proxy.url), eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        return (gsms, proxy, pool)
    }

    static func statusRequest(_ host: String) -> HTTP1Request {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "gsmsd")
        for (name, value) in GSMSProcess.simulatedAgentHeaders(host) { headers.add(name: name, value: value) }
        return HTTP1Request(method: .GET, path: "/agent/v1/hosts/\(host)", headers: headers)
    }

    @Test("sequential calls share one keep-alive connection; one gsmsd closed while idle is replaced")
    func keepAlive() async throws {
        let (gsms, proxy, pool) = try await Self.setUp()
        for _ in 0..<5 {
            let answer = try await pool.execute(Self.statusRequest("vm-1"), timeout: .seconds(30))
            #expect(answer.status == .notFound)
            #expect(String(buffer: answer.body).contains("UnknownHost"))
        }
        #expect(proxy.connectionCount == 1)

        await proxy.closeConnections()
        let answer = try await pool.execute(Self.statusRequest("vm-1"), timeout: .seconds(30))
        #expect(answer.status == .notFound)
        #expect(proxy.connectionCount == 2)
        await pool.shutdown()
        await proxy.stop()
        try await gsms.stop()
    }

    @Test("a call without an answer fails at its deadline; a cancelled call ends at once")
    func deadlineAndCancellation() async throws {
        let (gsms, proxy, pool) = try await Self.setUp()
        proxy.hold { _ in true }
        await #expect(throws: HTTP1ClientError.timedOut) {
            _ = try await pool.execute(Self.statusRequest("vm-1"), timeout: .milliseconds(200))
        }
        let call = Task { try await pool.execute(Self.statusRequest("vm-2"), timeout: .seconds(600)) }
        try await proxy.waitUntil("the second call") { $0.contains { $0.path.hasSuffix("/vm-2") } }
        call.cancel()
        let outcome = try await Deadline.within(.seconds(30), "the cancelled call") { await call.result }
        #expect(throws: (any Error).self) { try outcome.get() }
        await pool.shutdown()
        await proxy.stop()
        try await gsms.stop()
    }

    @Test("https:// speaks TLS: against a plain-HTTP server the call fails instead of hanging")
    func tlsAgainstPlainHTTP() async throws {
        let (gsms, proxy, _) = try await Self.setUp()
        guard case .tcp(_, let port) = proxy.address else { throw TestFailure("the proxy is not on TCP") }
        let pool = ControlPlaneClient.httpClient(
            for: try ControlPlaneEndpoint(url: "https://127.0.0.1:\(port)"),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        do {
            _ = try await pool.execute(Self.statusRequest("vm-1"), timeout: .seconds(30))
            Issue.record("a plain-HTTP server answered a TLS client")
        } catch let failure as HTTP1ClientError {
            if case .timedOut = failure { Issue.record("the TLS handshake hung until the deadline") }
        } catch {
            // A TLS error: expected.
        }
        #expect(proxy.exchanges.allSatisfy { $0.status == nil }, "nothing was forwarded to gsmsd")
        await pool.shutdown()
        await proxy.stop()
        try await gsms.stop()
    }

    @Test("gsmsd's error codes are typed: UnknownHost and HostKeyMismatch are recognised by code and status")
    func typedCodes() {
        #expect(ControlPlaneError(status: 404, code: .unknownHost, message: "").isUnknownHost)
        #expect(!ControlPlaneError(status: 404, code: .http(404), message: "").isUnknownHost)
        #expect(
            ControlPlaneError(status: 403, code: ControlPlaneError.Code(rawValue: "HostKeyMismatch"), message: "")
                .isForeignHostKey)
        #expect(ControlPlaneError(status: nil, code: .unreachable, message: "gone").description == "Unreachable: gone")
        let standing = ControlPlaneLink.standing(
            after: ControlPlaneError(status: 401, code: .invalidAgentToken, message: "no"),
            endpoint: ControlPlaneEndpoint(usesTLS: false, host: "gsms", port: 80, pathPrefix: ""), titleId: "1234")
        #expect(standing.code == "InvalidAgentToken")
        #expect(standing.message?.contains("fleet secret") == true)
    }
}
