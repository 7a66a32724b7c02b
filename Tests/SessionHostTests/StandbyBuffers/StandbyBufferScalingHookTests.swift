import Foundation
import NIOCore
import NIOHTTP1
import SessionHostHTTP
import SessionHostModel
import Testing

@testable import AllocationService

/// The scaling hook: a command, or a webhook.
@Suite("standby buffer scaling hooks")
struct StandbyBufferScalingHookTests {
    static let request = ScalingRequest(
        buffer: StandbyBufferStatus(
            titleId: "1234", region: "WestUS",
            policy: StandbyBufferPolicy(titleId: "1234", region: "WestUS", bufferHosts: 2, maxVMs: 9), standingBy: 1,
            busy: 3, other: 0, draining: 0, vms: 4, drainingVMs: 0, slotsPerVM: 1, wantedVMs: 5),
        previousWantedVMs: 4, at: "2026-01-02T03:04:05.000Z")

    static var body: [UInt8] { Array((try? JSONEncoder().encode(request)) ?? Data()) }

    @Test("a command reads the request on its standard input; exit 0 is success, any other status a failure")
    func command() async throws {
        let directory = try TemporaryDirectory()
        let out = directory.file("stdin")
        try await ScalingHookCommand(command: "cat > '\(out)'", timeout: .seconds(30)).send(Self.body)
        let received = try JSONDecoder().decode(ScalingRequest.self, from: Data(contentsOf: URL(fileURLWithPath: out)))
        #expect(received == Self.request)

        let error = try await #require(throws: ScalingHookError.self) {
            try await ScalingHookCommand(command: "exit 3", timeout: .seconds(30)).send(Self.body)
        }
        #expect(error.code == .commandFailed)
        #expect(error.message.contains("status 3"))
        withExtendedLifetime(directory) {}
    }

    @Test("a command that outlives its timeout is killed and counts as failed")
    func commandTimeout() async throws {
        let error = try await Deadline.within(.seconds(20), "the hook's timeout") {
            try await #require(throws: ScalingHookError.self) {
                try await ScalingHookCommand(command: "sleep 60", timeout: .milliseconds(200)).send(Self.body)
            }
        }
        #expect(error.code == .timedOut)
    }

    @Test("a webhook POSTs the request JSON; 2xx is success, another status a failure")
    func webhook() async throws {
        let status = StandbyBufferTestValue(HTTPResponseStatus.noContent)
        let server = try await ScriptedHTTPServer(.tcp(host: "127.0.0.1", port: 0)) { _, writer in
            try await ScriptedHTTPServer.answer(writer, status.value)
            return true
        }
        guard case .tcp(let host, let port) = server.address else { throw TestFailure("not TCP") }
        let hook = ScalingHookWebhook(host: host, port: port, path: "/scale?pool=a", timeout: .seconds(30))
        try await hook.send(Self.body)
        let request = try #require(server.requests.first)
        #expect(request.method == .POST)
        #expect(request.path == "/scale?pool=a")
        #expect(request.headers["Content-Type"] == ["application/json"])
        #expect(try JSONDecoder().decode(ScalingRequest.self, from: Data(request.body)) == Self.request)

        status.update { $0 = .internalServerError }
        let error = try await #require(throws: ScalingHookError.self) { try await hook.send(Self.body) }
        #expect(error.code == .rejected)
        #expect(error.message.contains("500"))
        await server.stop()
    }

    @Test("a webhook that is unreachable or does not answer in time counts as failed")
    func webhookUnreachable() async throws {
        let silent = try await ScriptedHTTPServer(.tcp(host: "127.0.0.1", port: 0)) { _, _ in
            try await Task.sleep(for: .seconds(600))
            return false
        }
        guard case .tcp(let host, let port) = silent.address else { throw TestFailure("not TCP") }
        let slow = try await #require(throws: ScalingHookError.self) {
            try await ScalingHookWebhook(host: host, port: port, path: "/", timeout: .milliseconds(300)).send(Self.body)
        }
        #expect(slow.code == .timedOut)
        await silent.stop()

        let closed = try await #require(throws: ScalingHookError.self) {
            try await ScalingHookWebhook(host: host, port: port, path: "/", timeout: .seconds(10)).send(Self.body)
        }
        #expect(closed.code == .unreachable)
    }
}
