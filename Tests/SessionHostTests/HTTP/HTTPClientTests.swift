import NIOCore
import NIOHTTP1
import SessionHostHTTP
import Synchronization
import Testing

@Suite("SessionHostHTTP's client: keep-alive, retries, deadlines, the answer cap, line streams, TLS hook")
struct HTTPClientTests {
    enum Transport: String, Sendable, CaseIterable, CustomStringConvertible {
        case unix, tcp
        var description: String { rawValue }

        func address(in directory: TemporaryDirectory) -> HTTPClientAddress {
            switch self {
            case .unix: .unix(path: directory.file("server.sock"))
            case .tcp: .tcp(host: "127.0.0.1", port: 0)
            }
        }
    }

    /// Answers every request with `<connection>.<request number>`.
    static let numbering: ScriptedHTTPServer.Script = { request, writer in
        try await ScriptedHTTPServer.answer(writer, body: Array("\(request.connection).\(request.number)".utf8))
        return true
    }

    static func get(_ path: String = "/") -> HTTP1Request { HTTP1Request(method: .GET, path: path) }

    @Test("sequential requests share one keep-alive connection", arguments: Transport.allCases)
    func keepAlive(_ transport: Transport) async throws {
        let directory = try TemporaryDirectory()
        let server = try await ScriptedHTTPServer(transport.address(in: directory), script: Self.numbering)
        let client = HTTP1Client(HTTPClientConfiguration(address: server.address))
        for number in 1...3 {
            let answer = try await client.execute(Self.get(), timeout: .seconds(60))
            #expect(answer.status == .ok)
            #expect(String(buffer: answer.body) == "1.\(number)")
        }
        #expect(server.connectionCount == 1)
        #expect(await client.idleConnectionCount == 1)
        let host = server.requests.first?.headers["Host"].first
        #expect(host == (transport == .unix ? "localhost" : server.address.description))
        #expect(server.requests.allSatisfy { !$0.headers.contains(name: "Connection") })
        await client.shutdown()
        await server.stop()
    }

    @Test(
        "without idle connections, every request has its own and says Connection: close", arguments: Transport.allCases)
    func connectionPerRequest(_ transport: Transport) async throws {
        let directory = try TemporaryDirectory()
        let server = try await ScriptedHTTPServer(transport.address(in: directory), script: Self.numbering)
        let client = HTTP1Client(HTTPClientConfiguration(address: server.address, maximumIdleConnections: 0))
        for number in 1...2 {
            let answer = try await client.execute(HTTP1Request(method: .POST, path: "/p"), timeout: .seconds(60))
            #expect(String(buffer: answer.body) == "\(number).1")
        }
        #expect(server.connectionCount == 2)
        #expect(
            server.requests.allSatisfy {
                $0.headers["Connection"] == ["close"] && $0.headers["Content-Length"] == ["0"]
            })
        await server.stop()
    }

    @Test(
        "a request dropped on a reused connection is sent again on a new one only when it cannot have been processed",
        arguments: Transport.allCases)
    func retryOnStaleConnection(_ transport: Transport) async throws {
        let directory = try TemporaryDirectory()
        // Each connection's first request is answered; a second one meets the connection closing,
        // as when the server closes an idle connection just as the request goes out.
        let server = try await ScriptedHTTPServer(transport.address(in: directory)) { request, writer in
            guard request.number == 1 else { return false }
            try await ScriptedHTTPServer.answer(writer, body: Array("\(request.connection).\(request.number)".utf8))
            return true
        }
        let client = HTTP1Client(HTTPClientConfiguration(address: server.address))
        #expect(String(buffer: try await client.execute(Self.get(), timeout: .seconds(60)).body) == "1.1")
        // An idempotent GET: sent again on a new connection.
        #expect(String(buffer: try await client.execute(Self.get(), timeout: .seconds(60)).body) == "2.1")
        #expect(server.connectionCount == 2)
        // A POST may have been processed: not sent again.
        await #expect(throws: HTTP1ClientError.connectionClosed(answerStarted: false)) {
            try await client.execute(HTTP1Request(method: .POST, path: "/p"), timeout: .seconds(60))
        }
        #expect(server.connectionCount == 2)
        // Unless its caller says it may be repeated.
        _ = try await client.execute(Self.get(), timeout: .seconds(60)) // a fresh idle connection (3.1)
        let repeated = try await client.execute(
            HTTP1Request(method: .POST, path: "/p", isIdempotent: true), timeout: .seconds(60))
        #expect(String(buffer: repeated.body) == "4.1")
        await client.shutdown()
        await server.stop()
    }

    @Test("an idle connection the server closed is replaced", arguments: Transport.allCases)
    func serverClosedIdleConnection(_ transport: Transport) async throws {
        let directory = try TemporaryDirectory()
        let server = try await ScriptedHTTPServer(transport.address(in: directory), script: Self.numbering)
        let client = HTTP1Client(HTTPClientConfiguration(address: server.address))
        _ = try await client.execute(Self.get(), timeout: .seconds(60))
        await server.closeConnections()
        let answer = try await client.execute(Self.get(), timeout: .seconds(60))
        #expect(String(buffer: answer.body) == "2.1")
        await client.shutdown()
        await server.stop()
    }

    @Test(
        "a request without an answer fails at its deadline with a timeout; the next one works",
        arguments: Transport.allCases)
    func deadline(_ transport: Transport) async throws {
        let directory = try TemporaryDirectory()
        let server = try await ScriptedHTTPServer(transport.address(in: directory)) { request, writer in
            if request.path == "/hold" {
                try await Task.sleep(for: .seconds(3600)) // never answered; ended by stop()
            }
            try await ScriptedHTTPServer.answer(writer, body: Array("\(request.connection).\(request.number)".utf8))
            return true
        }
        let client = HTTP1Client(HTTPClientConfiguration(address: server.address))
        await #expect(throws: HTTP1ClientError.timedOut) {
            try await client.execute(Self.get("/hold"), timeout: .milliseconds(300))
        }
        #expect(HTTP1ClientError.timedOut.description == "no answer in time")
        let answer = try await client.execute(Self.get(), timeout: .seconds(60))
        #expect(String(buffer: answer.body) == "2.1", "the timed-out connection was closed, not reused")
        await client.shutdown()
        await server.stop()
    }

    @Test("an answer over the cap is refused with a clear error", arguments: Transport.allCases)
    func answerCap(_ transport: Transport) async throws {
        let directory = try TemporaryDirectory()
        let server = try await ScriptedHTTPServer(transport.address(in: directory)) { request, writer in
            try await ScriptedHTTPServer.answer(
                writer, body: [UInt8](repeating: UInt8(ascii: "x"), count: Int(request.path.dropFirst()) ?? 0))
            return true
        }
        let client = HTTP1Client(HTTPClientConfiguration(address: server.address, maximumAnswerBytes: 1000))
        #expect(try await client.execute(Self.get("/1000"), timeout: .seconds(60)).body.readableBytes == 1000)
        let error = await #expect(throws: HTTP1ClientError.answerTooLarge(limit: 1000)) {
            try await client.execute(Self.get("/5000"), timeout: .seconds(60))
        }
        #expect(error?.description == "the answer is over 1000 bytes")
        await client.shutdown()
        await server.stop()
    }

    @Test("a streamed answer is handed over line by line as it arrives", arguments: Transport.allCases)
    func lineStream(_ transport: Transport) async throws {
        let directory = try TemporaryDirectory()
        let (released, release) = AsyncStream<Void>.makeStream()
        let server = try await ScriptedHTTPServer(transport.address(in: directory)) { request, writer in
            if request.path == "/missing" {
                try await ScriptedHTTPServer.answer(writer, .notFound, body: Array("{\"code\":\"NotFound\"}".utf8))
                return true
            }
            try await writer.write(.head(HTTPResponseHead(version: .http1_1, status: .ok)))
            try await writer.write(.body(.byteBuffer(ByteBuffer(string: "one\ntw"))))
            // The rest only once the client has the first line: it is not waiting for the end.
            for await _ in released { break }
            try await writer.write(.body(.byteBuffer(ByteBuffer(string: "o\n\nthree\nrest"))))
            try await writer.write(.end(nil))
            return true
        }
        let client = HTTP1Client(HTTPClientConfiguration(address: server.address, maximumAnswerBytes: 100))
        let lines = Mutex<[String]>([])
        let answer = try await client.stream(Self.get("/events"), timeout: .seconds(60)) { line in
            let text = String(decoding: line, as: UTF8.self)
            lines.withLock { $0.append(text) }
            if text == "one" { release.yield() }
        }
        #expect(answer.status == .ok)
        #expect(lines.withLock { $0 } == ["one", "two", "three"])
        #expect(String(buffer: answer.body) == "rest")
        #expect(server.requests.first?.headers["Connection"] == ["close"])

        let missing = try await client.stream(Self.get("/missing"), timeout: .seconds(60)) { _ in
            Issue.record("a line of an error answer")
        }
        #expect(missing.status == .notFound)
        #expect(String(buffer: missing.body) == "{\"code\":\"NotFound\"}")
        await server.stop()
    }

    @Test("a streamed line over the cap is refused", arguments: Transport.allCases)
    func lineStreamCap(_ transport: Transport) async throws {
        let directory = try TemporaryDirectory()
        let server = try await ScriptedHTTPServer(transport.address(in: directory)) { _, writer in
            try await writer.write(.head(HTTPResponseHead(version: .http1_1, status: .ok)))
            try await writer.write(.body(.byteBuffer(ByteBuffer(string: "short\n"))))
            try await writer.write(.body(.byteBuffer(ByteBuffer(string: String(repeating: "x", count: 500)))))
            try await writer.write(.end(nil))
            return true
        }
        let client = HTTP1Client(HTTPClientConfiguration(address: server.address, maximumAnswerBytes: 100))
        let lines = Mutex(0)
        await #expect(throws: HTTP1ClientError.answerTooLarge(limit: 100)) {
            try await client.stream(Self.get("/events"), timeout: .seconds(60)) { _ in lines.withLock { $0 += 1 } }
        }
        #expect(lines.withLock { $0 } == 1)
        await server.stop()
    }

    /// A TLS hook that records its calls and adds a handler that lets everything through.
    final class RecordingTLS: HTTPClientTLS {
        let serverHostnames = Mutex<[String?]>([])
        let fails: Bool

        init(fails: Bool = false) { self.fails = fails }

        final class PassThrough: ChannelDuplexHandler, Sendable {
            typealias InboundIn = ByteBuffer
            typealias OutboundIn = ByteBuffer
        }

        struct Refused: Error, CustomStringConvertible {
            var description: String { "no certificate" }
        }

        func addTLSHandler(to pipeline: ChannelPipeline.SynchronousOperations, serverHostname: String?) throws {
            serverHostnames.withLock { $0.append(serverHostname) }
            if fails { throw Refused() }
            try pipeline.addHandler(PassThrough(), name: "tls")
        }
    }

    @Test("TLS goes through the hook: it is called for every new connection, with the server's name")
    func tlsHook() async throws {
        let server = try await ScriptedHTTPServer(.tcp(host: "127.0.0.1", port: 0), script: Self.numbering)
        guard case .tcp(_, let port) = server.address else { throw TestFailure("the server is not on TCP") }
        let tls = RecordingTLS()
        let named = HTTP1Client(HTTPClientConfiguration(address: .tcp(host: "localhost", port: port), tls: tls))
        _ = try await named.execute(Self.get(), timeout: .seconds(60))
        _ = try await named.execute(Self.get(), timeout: .seconds(60)) // the same connection
        _ = try await named.stream(Self.get(), timeout: .seconds(60)) { _ in }
        #expect(tls.serverHostnames.withLock { $0 } == ["localhost", "localhost"])

        let byAddress = RecordingTLS()
        let numeric = HTTP1Client(HTTPClientConfiguration(address: server.address, tls: byAddress))
        _ = try await numeric.execute(Self.get(), timeout: .seconds(60))
        #expect(byAddress.serverHostnames.withLock { $0 } == [nil], "no SNI name for an IP address")

        let refusing = HTTP1Client(HTTPClientConfiguration(address: server.address, tls: RecordingTLS(fails: true)))
        await #expect(throws: HTTP1ClientError.cannotConnect(server.address, .other("no certificate"))) {
            try await refusing.execute(Self.get(), timeout: .seconds(60))
        }
        await named.shutdown()
        await numeric.shutdown()
        await server.stop()
    }

    @Test("connection failures are classified for words: no socket, refused")
    func connectFailures() async throws {
        let directory = try TemporaryDirectory()
        let missing = HTTP1Client(HTTPClientConfiguration(address: .unix(path: directory.file("nowhere.sock"))))
        await #expect(throws: HTTP1ClientError.cannotConnect(.unix(path: directory.file("nowhere.sock")), .noSocket)) {
            try await missing.execute(Self.get(), timeout: .seconds(60))
        }
        // A port nobody listens on: bind one, note it, close it.
        let server = try await ScriptedHTTPServer(.tcp(host: "127.0.0.1", port: 0), script: Self.numbering)
        await server.stop()
        let refused = HTTP1Client(HTTPClientConfiguration(address: server.address))
        let error = await #expect(throws: HTTP1ClientError.self) {
            try await refused.execute(Self.get(), timeout: .seconds(60))
        }
        #expect(error == .cannotConnect(server.address, .refused))
        #expect(error?.description == "cannot connect to \(server.address): connection refused")
    }
}
