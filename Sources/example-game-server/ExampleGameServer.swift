import ArgumentParser
import NIOCore
import NIOPosix
import SessionHostModel
import SessionHostSDK
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An example game server built on `SessionHostSDK`: it tells the agent it is ready, waits for
/// its session, prints the sessionId and cookie, serves players over UDP on its mapped port,
/// heartbeats with its players, and ends the session when the match is over; then it is ready
/// again for the next one.
///
/// Players speak one line per datagram: `join NAME`, `leave`, `end` (ends the match early);
/// anything else is echoed with the session id.
@main
struct ExampleGameServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example-game-server",
        abstract: "An example game server for sessionhostd (SessionHostSDK).",
        discussion: """
            Run it next to sessionhostd with SESSIONHOST_SOCKET set (or --socket). It serves the \
            port mapping named by --port-name on its internal port. Try it:
              printf 'join alice' | nc -u -w1 127.0.0.1 7777
            """,
        version: SessionHostVersion.release)

    @Option(help: "The agent socket (default: $SESSIONHOST_SOCKET, else /run/sessionhost/agent.sock).")
    var socket: String?

    @Option(name: .customLong("port-name"), help: "The port mapping to serve players on.")
    var portName = "game"

    @Option(name: .customLong("match-seconds"), help: "How long a match lasts before the session ends.")
    var matchSeconds: Double = 30

    @Option(name: .customLong("heartbeat-seconds"), help: "Seconds between heartbeats.")
    var heartbeatSeconds: Double = 5

    @Option(help: "Stop after this many matches (0: run forever).")
    var matches = 0

    func run() async throws {
        let agent = AgentClient(socketPath: socket)
        let host = try await agent.host()
        guard let mapping = host.portMappings.first(where: { $0.name == portName }) else {
            throw ValidationError(
                "the agent has no port mapping named '\(portName)'; start sessionhostd with --port \(portName):udp:7777:30000"
            )
        }
        let game = GameState()
        let server = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "0.0.0.0", port: mapping.ports.internal) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(
                        wrappingChannelSynchronously: channel)
                }
            }
        say("serving players on udp port \(mapping.ports.internal) (public \(host.hostName):\(mapping.ports.external))")

        let heartbeats = HeartbeatLoop.start(agent: agent, every: .milliseconds(Int64(heartbeatSeconds * 1000))) {
            HeartbeatRequest(health: .healthy, players: game.players.map { Player(playerId: $0) })
        } onError: { error in
            say("heartbeat failed: \(error)")
        }
        defer { heartbeats.stop() }

        try await server.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await datagram in inbound {
                        let reply = game.handle(String(buffer: datagram.data), from: "\(datagram.remoteAddress)")
                        try await outbound.write(
                            AddressedEnvelope(
                                remoteAddress: datagram.remoteAddress, data: ByteBuffer(string: reply + "\n")))
                    }
                }
                try await playMatches(agent: agent, game: game)
                group.cancelAll()
            }
        }
    }

    /// Ready, wait for a session, play, end; again.
    private func playMatches(agent: AgentClient, game: GameState) async throws {
        var played = 0
        while matches == 0 || played < matches {
            let ready = try await agent.ready()
            say("ready: the host is \(ready.state.rawValue)")
            var session = try await agent.session(wait: .seconds(60))
            while session.sessionId == nil {
                session = try await agent.session(wait: .seconds(60))
            }
            let sessionId = session.sessionId ?? ""
            say("session started: sessionId=\(sessionId) sessionCookie=\(session.sessionCookie ?? "")")
            game.start(sessionId: sessionId)
            try await game.waitForEnd(timeout: .milliseconds(Int64(matchSeconds * 1000)))
            try await agent.endSession()
            say("session ended: sessionId=\(sessionId) players=\(game.players.sorted())")
            game.finish()
            played += 1
        }
    }
}

/// The match: who is playing, and whether a player asked to end it.
final class GameState: Sendable {
    private struct State {
        var sessionId: String?
        var players: [String: String] = [:] // address -> name
        var endRequested = false
    }

    private let state = Mutex(State())

    var players: [String] { state.withLock { Array($0.players.values) } }

    func start(sessionId: String) {
        state.withLock { $0 = State(sessionId: sessionId) }
    }

    func finish() {
        state.withLock { $0 = State() }
    }

    /// One datagram from a player; returns the reply.
    func handle(_ line: String, from address: String) -> String {
        let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
        return state.withLock { state in
            guard let sessionId = state.sessionId else { return "no match yet: the server is waiting for its session" }
            switch words.first {
            case "join":
                let name = words.dropFirst().first ?? address
                state.players[address] = name
                return "welcome \(name) to session \(sessionId)"
            case "leave":
                state.players[address] = nil
                return "bye"
            case "end":
                state.endRequested = true
                return "ending session \(sessionId)"
            default:
                return "session \(sessionId): \(line)"
            }
        }
    }

    /// Returns when a player asks to end the match or `timeout` passes.
    func waitForEnd(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, !state.withLock({ $0.endRequested }) {
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// One line on stdout, flushed at once (stdout is often a file or a pipe, e.g. the journal).
func say(_ text: String) {
    let line = Array("example-game-server: \(text)\n".utf8)
    _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
}
