#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SessionHostHTTP
import SessionHostModel

/// The agent socket API of SPEC §3: routes a request to the `HostAgent` and answers in JSON.
/// A request that is refused never changes state.
public struct GameSocketAPI: Sendable {
    /// The longest `GET /v1/session?wait=` the agent holds, in seconds.
    public static let maximumWaitSeconds: Double = 3600
    /// The largest request body, in bytes.
    public static let maximumBodyBytes = HTTPLimits.defaultBodyLimit

    public let agent: HostAgent
    public let policy: PeerPolicy
    /// Local mode (no control plane): `POST /v1/local/allocate` hands the host a session.
    public let localMode: Bool
    /// Fired when the agent begins to stop (its `HTTPServer` fires it): held
    /// `GET /v1/session?wait=` requests are answered at once with the current state and
    /// `GET /v1/events` streams end, so that their clients ask again (the next agent process
    /// answers, through the socket systemd keeps) rather than see the connection cut.
    public let stopping: OneShotSignal
    private let hostInfoCache = HostInfoCache()
    /// Counts the requests (`--metrics-listen`).
    public let metrics: AgentMetrics
    /// The VM's drain (`POST /v1/drain`); `nil`: this API takes no drain (404).
    public let drains: DrainCoordinator?

    public init(
        agent: HostAgent, policy: PeerPolicy, localMode: Bool, stopping: OneShotSignal = OneShotSignal(),
        metrics: AgentMetrics = AgentMetrics(), drains: DrainCoordinator? = nil
    ) {
        self.drains = drains
        self.agent = agent
        self.policy = policy
        self.localMode = localMode
        self.stopping = stopping
        self.metrics = metrics
    }

    /// The endpoints of the socket API.
    enum Endpoint: Sendable {
        case host, ready, session, heartbeat, endSession, events, localAllocate, drain
    }

    /// The routes: method and path to endpoint.
    static let table = RouteTable<Endpoint>([
        Route("GET", "/v1/host", .host),
        Route("POST", "/v1/ready", .ready),
        Route("GET", "/v1/session", .session),
        Route("POST", "/v1/heartbeat", .heartbeat),
        Route("POST", "/v1/session/end", .endSession),
        Route("GET", "/v1/events", .events),
        Route("POST", "/v1/local/allocate", .localAllocate),
        Route("POST", "/v1/drain", .drain),
    ])

    /// The paths and the methods each takes.
    static let routes: [String: Set<String>] = table.methodsByPattern

    public func handle(_ request: AgentRequest) async -> AgentResponse {
        let response = await respond(to: request)
        metrics.socketRequestAnswered(path: request.path, status: response.status)
        return response
    }

    private func respond(to request: AgentRequest) async -> AgentResponse {
        let peer = request.peer ?? .nobody
        guard policy.allows(peer) else {
            return Self.error(
                AgentError(
                    .forbidden, code: .peerNotAllowed,
                    message:
                        "uid \(peer.uid) is not allowed on this socket; add the game server's user to the agent's group or use --allow-user/--allow-group"
                ))
        }
        switch Self.table.match(method: request.method, path: request.path) {
        case .notFound:
            return Self.error(AgentError(.notFound, code: .notFound, message: "no such endpoint: \(request.path)"))
        case .methodNotAllowed(let methods):
            let allowed = RouteMatch<Endpoint>.allowHeader(methods)
            return Self.error(
                AgentError(.methodNotAllowed, code: .methodNotAllowed, message: "\(request.path) takes \(allowed)"),
                headers: [("Allow", allowed)])
        case .found(let endpoint, _):
            do {
                return try await route(endpoint, request, peer: peer)
            } catch {
                return Self.error(error)
            }
        }
    }

    private func route(_ endpoint: Endpoint, _ request: AgentRequest, peer: PeerCredentials) async throws(AgentError)
        -> AgentResponse
    {
        switch endpoint {
        case .host:
            let agent = self.agent
            return .json(
                status: 200,
                body: hostInfoCache.body(
                    for: HostInfoCache.Key(
                        state: agent.currentState, controlPlane: agent.controlPlaneStanding, drain: agent.drain)
                ) { Self.encode(agent.hostInfo(in: $0.state, controlPlane: $0.controlPlane, drain: $0.drain)) })
        case .ready:
            return Self.ok(try await agent.ready())
        case .session:
            let wait = try Self.waitSeconds(request.query["wait"])
            if wait > 0 {
                return Self.ok(await waitForSession(timeout: .milliseconds(Int64(wait * 1000))))
            }
            return Self.ok(agent.sessionInfo())
        case .heartbeat:
            let heartbeat: HeartbeatRequest = try Self.decodeBody(request.body) ?? HeartbeatRequest()
            return Self.ok(try await agent.heartbeat(heartbeat))
        case .endSession:
            return Self.ok(try await agent.endSession())
        case .events:
            return eventStream()
        case .localAllocate:
            guard localMode else {
                throw AgentError(
                    .conflict, code: .notLocalMode,
                    message:
                        "this agent takes its sessions from the control plane; local hand-offs work only without --control-plane"
                )
            }
            guard policy.isPrivileged(peer) else {
                throw AgentError(
                    .forbidden, code: .peerNotAllowed,
                    message: "only root or the agent's own user may hand over a session")
            }
            guard let allocation: AllocationRequest = try Self.decodeBody(request.body) else {
                throw .malformed("the body must be a JSON object with sessionId and optional sessionCookie")
            }
            return Self.ok(try await agent.allocate(allocation))
        case .drain:
            guard let drains else {
                throw AgentError(.notFound, code: .notFound, message: "this agent takes no drain on this socket")
            }
            guard policy.isPrivileged(peer) else {
                throw AgentError(
                    .forbidden, code: .peerNotAllowed, message: "only root or the agent's own user may drain the VM")
            }
            let command: DrainCommandRequest = try Self.decodeBody(request.body) ?? DrainCommandRequest()
            let notice = try await drains.requestLocalDrain(command)
            return Self.ok(
                agent.hostInfo(in: agent.currentState, controlPlane: agent.controlPlaneStanding, drain: notice))
        }
    }

    /// Waits for a session until the timeout or until the agent begins to stop, whichever comes
    /// first, then answers like `GET /v1/session`.
    private func waitForSession(timeout: Duration) async -> SessionInfo {
        let agent = self.agent
        let stopping = self.stopping
        if stopping.hasFired { return agent.sessionInfo() }
        return await withTaskGroup(of: SessionInfo?.self) { group in
            group.addTask { await agent.waitForSession(timeout: timeout) }
            group.addTask {
                await stopping.wait()
                return nil
            }
            // Stopping (nil) cancels the wait, which then answers with the current state.
            while let answer = await group.next() {
                group.cancelAll()
                if let answer { return answer }
            }
            return agent.sessionInfo()
        }
    }

    private func eventStream() -> AgentResponse {
        let agent = self.agent
        let stopping = self.stopping
        let (lines, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingNewest(256))
        let task = Task {
            // The stream ends when the agent stops: cleanly, with the end of the chunked answer.
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in await agent.events() {
                        var line = Self.encode(event)
                        line.append(UInt8(ascii: "\n"))
                        continuation.yield(line)
                    }
                }
                group.addTask { await stopping.wait() }
                await group.next()
                group.cancelAll()
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return .stream(contentType: "application/x-ndjson", lines: lines)
    }

    // MARK: Encoding and decoding

    static func waitSeconds(_ text: String?) throws(AgentError) -> Double {
        guard let text else { return 0 }
        guard let seconds = Double(text), seconds.isFinite, seconds >= 0, seconds <= maximumWaitSeconds else {
            throw .malformed(
                "wait must be a number of seconds from 0 to \(Int(maximumWaitSeconds)), got '\(text.prefix(40))'")
        }
        return seconds
    }

    /// `nil` for an empty body; a clear 400 for anything that is not the expected JSON object.
    static func decodeBody<T: Decodable>(_ body: [UInt8]) throws(AgentError) -> T? {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as InvalidInput {
            throw .badRequest(error)
        } catch {
            throw .malformed(DecodingErrorDescription.describe(error))
        }
    }

    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            return Array(#"{"code":"InternalError","message":"could not encode the answer"}"#.utf8)
        }
    }

    static func ok(_ value: some Encodable) -> AgentResponse {
        .json(status: 200, body: encode(value))
    }

    /// The error envelope of every agent server (`HTTPErrorEnvelope`).
    static func error(_ error: AgentError, headers: [(String, String)] = []) -> AgentResponse {
        .error(status: status(of: error), error.body, headers: headers)
    }

    /// The HTTP status of an agent error: the one place the agent's servers turn the kind of a
    /// refusal into a status.
    public static func status(of error: AgentError) -> Int {
        switch error.kind {
        case .invalidRequest: 400
        case .forbidden: 403
        case .notFound: 404
        case .methodNotAllowed: 405
        case .conflict: 409
        case .unavailable: 503
        case .failure: 500
        }
    }
}
