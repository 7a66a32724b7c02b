import AllocationStore
import AllocationStorePostgres
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SessionHostModel
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import AllocationService

@Suite("gsmsd units")
struct AllocationServiceUnitTests {
    // MARK: pollIntervalMilliseconds

    @Test("the poll interval grows with the queue position, shrinks with the fulfilment rate, and stays within bounds")
    func pollInterval() {
        let now: Duration = .seconds(1000)
        var idle = PollIntervalAdvisor()
        idle.recordRequest(at: now)
        let first = idle.interval(position: 1, at: now, maximumInterval: .seconds(10))
        let tenth = idle.interval(position: 10, at: now, maximumInterval: .seconds(10))
        #expect(first >= PollIntervalAdvisor.minimum)
        #expect(tenth > first)
        #expect(idle.interval(position: 10_000, at: now, maximumInterval: .seconds(10)) == PollIntervalAdvisor.maximum)
        #expect(idle.interval(position: 10_000, at: now, maximumInterval: .seconds(3)) == .seconds(3))

        var busy = idle
        for _ in 0..<50 { busy.recordFulfilment(at: now) }
        #expect(busy.interval(position: 10, at: now, maximumInterval: .seconds(10)) < tenth)

        var flooded = busy
        for _ in 0..<500 { flooded.recordRequest(at: now) }
        #expect(
            flooded.interval(position: 10, at: now, maximumInterval: .seconds(10))
                > busy.interval(position: 10, at: now, maximumInterval: .seconds(10)))
    }

    @Test("event rates only count the last minute")
    func eventRateWindow() {
        let start: Duration = .seconds(1000)
        var rate = EventRate()
        for _ in 0..<30 { rate.record(at: start, window: .seconds(60)) }
        #expect(rate.perSecond(at: start, window: .seconds(60)) == 30)
        #expect((2.9...3.4).contains(rate.perSecond(at: start + .seconds(9), window: .seconds(60))))
        #expect(rate.perSecond(at: start + .seconds(120), window: .seconds(60)) == 0)
    }

    // MARK: errors and headers

    static func request(path: String = "/titles/1234/sessionhosts", correlationId: String? = nil) -> Request {
        var fields = HTTPFields()
        if let correlationId { fields[HTTPField.Name("X-XblCorrelationId")!] = correlationId }
        return Request(
            head: HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: path, headerFields: fields),
            body: RequestBody(buffer: ByteBuffer()))
    }

    static func respond(_ error: any Error, correlationId: String? = nil) async throws -> Response {
        let middleware = APIResponseMiddleware<BasicRequestContext>(logger: Logger(label: "test"))
        let context = BasicRequestContext(source: .init(channel: EmbeddedChannel(), logger: Logger(label: "test")))
        return try await middleware.handle(Self.request(correlationId: correlationId), context: context) { _, _ in
            throw error
        }
    }

    static func body(_ response: Response) async throws -> [String: String] {
        let writer = CollectingWriter()
        try await response.body.write(writer)
        let collected = writer.buffer.withLock { $0 }
        return (try JSONSerialization.jsonObject(with: Data(collected.readableBytesView)) as? [String: String]) ?? [:]
    }

    @Test("an unexpected error is a 500 with a JSON body that gives no details away")
    func unexpectedErrorIs500() async throws {
        struct Secret: Error { var detail = "stack trace and secrets" }
        let response = try await Self.respond(Secret(), correlationId: "abc")
        #expect(response.status == .internalServerError)
        let body = try await Self.body(response)
        #expect(body["code"] == "InternalError")
        #expect(body["message"]?.contains("abc") == true)
        #expect(body["message"]?.contains("secrets") == false)
        #expect(response.headers[.contentType] == "application/json")
        #expect(response.headers[.cacheControl] == "no-store")
        #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
        #expect(response.headers[HTTPField.Name("X-XblCorrelationId")!] == "abc")
    }

    @Test("store refusals map to 404, 409 and 503")
    func storeErrors() async throws {
        #expect(try await Self.respond(StoreError.unknownHost("h")).status == .notFound)
        #expect(try await Self.respond(StoreError.hostHasSession("h", "s")).status == .conflict)
        let unavailable = try await Self.respond(StoreError.unavailable("disk I/O error"))
        #expect(unavailable.status == .serviceUnavailable)
        #expect(unavailable.headers[HTTPField.Name("Retry-After")!] == "1")
        #expect(try await Self.body(unavailable)["message"]?.contains("disk") == false)
    }

    @Test("a correlation id that is not a short visible token is replaced by a GUID")
    func correlationIds() {
        #expect(
            APIResponseMiddleware<BasicRequestContext>.correlationId(from: Self.request(correlationId: "req-1"))
                == "req-1")
        for bad in ["", "has space", String(repeating: "x", count: 129), "é"] {
            let replaced = APIResponseMiddleware<BasicRequestContext>.correlationId(
                from: Self.request(correlationId: bad))
            #expect(replaced != bad)
            #expect(UUID(uuidString: replaced) != nil)
        }
    }

    // MARK: configuration

    @Test("flags override the config file; defaults; bad values are refused with the flag named")
    func configuration() throws {
        let required = ["--token-key-file", "/k", "--agent-token-file", "/a"]
        let options = try ServiceOptions.parse(required)
        var file = ServiceConfigFile()
        file.listen = "0.0.0.0:9000"
        file.title = ["1234", "5678"]
        file.hostTimeout = 20
        let fromFile = try ServiceConfiguration.resolve(
            options: options, file: file, environment: ["STATE_DIRECTORY": "/var/lib/gsms"])
        #expect(fromFile.listenHost == "0.0.0.0" && fromFile.listenPort == 9000)
        #expect(fromFile.titles == ["1234", "5678"])
        #expect(fromFile.database == .sqlite(path: "/var/lib/gsms/gsms.sqlite"))
        #expect(fromFile.hostTimeout == .seconds(20))
        #expect(fromFile.handoffTimeout == .seconds(5))

        let flags = try ServiceOptions.parse(
            required + ["--listen", "[::1]:8081", "--title", "42", "--database", "sqlite:///tmp/x.sqlite"])
        let fromFlags = try ServiceConfiguration.resolve(options: flags, file: file, environment: [:])
        #expect(fromFlags.listenHost == "::1" && fromFlags.listenPort == 8081)
        #expect(fromFlags.titles == ["42"])
        #expect(fromFlags.database == .sqlite(path: "/tmp/x.sqlite"))

        let shared = try ServiceOptions.parse(
            required + ["--database", "postgres://gsms:pw@db.internal:6432/inventory?sslmode=require"])
        #expect(
            try ServiceConfiguration.resolve(options: shared, file: file, environment: [:]).database
                == .postgres(
                    PostgresStoreConfiguration(
                        host: "db.internal", port: 6432, username: "gsms", password: "pw", database: "inventory",
                        tlsMode: .require)))

        let refusals: [[String]] = [
            required + ["--listen", "8080"],
            required + ["--listen", "host:99999"],
            required + ["--title", "bad title"],
            required + ["--handoff-timeout", "0"],
            required + ["--host-timeout", "inf"],
            required + ["--database", "postgres://db/gsms"], // no user
            required + ["--database", "postgres://gsms@db/gsms?sslmode=sometimes"],
            required + ["--log-level", "loud"],
            ["--agent-token-file", "/a"],
        ]
        for arguments in refusals {
            let refused = try ServiceOptions.parse(arguments)
            #expect(throws: InvalidInput.self, "\(arguments)") {
                try ServiceConfiguration.resolve(options: refused, file: ServiceConfigFile(), environment: [:])
            }
        }
    }
}

/// Collects what a response body writes.
final class CollectingWriter: ResponseBodyWriter, Sendable {
    let buffer = Mutex(ByteBuffer())

    func write(_ buffer: ByteBuffer) async throws {
        self.buffer.withLock { _ = $0.writeImmutableBuffer(buffer) }
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
