import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@_exported import struct SessionHostModel.SessionHostAllocationRequest
@_exported import struct SessionHostModel.SessionHostAllocation
@_exported import struct SessionHostModel.ClusterResponse
@_exported import enum SessionHostModel.FulfillmentState
@_exported import struct SessionHostModel.PortMapping
@_exported import struct SessionHostModel.SessionPlayers
@_exported import struct SessionHostModel.Player

/// The HTTP client behind ``TitleClient/defaultHTTPClient``.
private let sharedHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10))
    configuration.redirectConfiguration = .disallow
    configuration.connectionPool.retryConnectionEstablishment = false
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()

/// A title-side client of gsmsd's public REST API (docs/rest-api.md): what a matchmaker or lobby
/// service calls to get a game server for a session.
///
/// ```swift
/// let client = TitleClient(baseURL: "http://127.0.0.1:8080", titleId: "1234") {
///     try await myTokenSource.currentToken()      // the part after ';' in the XBL3.0 header
/// }
/// let host = try await client.allocate(SessionHostAllocationRequest(
///     sessionId: UUID().uuidString.lowercased(), locations: ["West US", "East US"]))
/// print(host.hostName, host.portMappings)
/// ```
///
/// Every call sends `Authorization: XBL3.0 x=-;<token>` (the token provider is asked once per
/// attempt, so it can hand out fresh tokens), `Content-Type: application/json`, and one
/// `X-XblCorrelationId` GUID shared by all the attempts of the call. Transient failures (408, 429,
/// 500, 502, 503, 504, no answer) are retried as ``RetryPolicy`` says; any other refusal is thrown
/// at once as a ``TitleClientError`` carrying the service's code.
public struct TitleClient: Sendable {
    /// gsmsd's base URL, e.g. `http://127.0.0.1:8080`, without a trailing slash.
    public let baseURL: String
    /// The title every call is made for (`{titleId}` in the paths).
    public let titleId: String
    /// When to send a call again.
    public let retry: RetryPolicy
    /// The deadline of one attempt. An allocation is held until the host's agent acknowledges
    /// it, which can take a multiple of gsmsd's `--handoff-timeout`, so keep it generous.
    public let requestTimeout: Duration

    private let transport: GSMSTransport

    /// - Parameters:
    ///   - baseURL: gsmsd's `http://` or `https://` base URL.
    ///   - titleId: the title the calls are made for.
    ///   - token: hands out the bare title token (the part after `;` in
    ///     `XBL3.0 x=<userhash>;<token>`); asked before every attempt.
    ///   - retry: when to send a call again; ``RetryPolicy/default`` unless told.
    ///   - requestTimeout: the deadline of one attempt (default 60 s).
    ///   - httpClient: the HTTP client to use; ``defaultHTTPClient`` unless told. A client of
    ///     your own should not retry connection establishment itself
    ///     (`connectionPool.retryConnectionEstablishment = false`), or a refused connection is
    ///     retried inside one attempt until `requestTimeout` instead of by `retry`.
    public init(
        baseURL: String, titleId: String, token: @escaping @Sendable () async throws -> String,
        retry: RetryPolicy = .default, requestTimeout: Duration = .seconds(60),
        httpClient: HTTPClient = TitleClient.defaultHTTPClient
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.titleId = titleId
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.transport = GSMSTransport(
            baseURL: base, retry: retry, requestTimeout: requestTimeout, http: httpClient,
            userAgent: "SessionHostTitleClient", authorization: { "XBL3.0 x=-;" + (try await token()) })
    }

    /// The HTTP client shared by every ``TitleClient`` not given one: a 10 s connect timeout, no
    /// redirects, and no retry of failed connection establishment, since ``RetryPolicy`` decides
    /// retries. It lives as long as the process and is never shut down.
    public static var defaultHTTPClient: HTTPClient { sharedHTTPClient }

    // MARK: The API

    /// `POST /titles/{titleId}/sessionhosts`: allocates a StandingBy session host for
    /// `request.sessionId`, or returns the host that already holds that session.
    ///
    /// Returns once the host's agent has acknowledged the hand-off. Throws with code
    /// `NoStandingByHost` (HTTP 503) when no host matches after the retries, and
    /// `AllocationInProgress` (409, not retried) while another call with the same session id is
    /// in flight; look the session up with ``sessionHost(sessionId:)`` after a moment.
    public func allocate(_ request: SessionHostAllocationRequest) async throws(TitleClientError)
        -> SessionHostAllocation
    {
        try await allocateAnswer(request).value
    }

    /// `GET /titles/{titleId}/sessionhosts/{sessionId}`: the Active allocation of `sessionId`, or
    /// `nil` when the title has none (404 `SessionNotFound`: unknown, still being allocated, or
    /// ended). Other refusals, such as 404 `TitleNotSubscribed`, are thrown.
    public func sessionHost(sessionId: String) async throws(TitleClientError) -> SessionHostAllocation? {
        try await sessionHostAnswer(sessionId: sessionId)?.value
    }

    /// `POST /titles/{titleId}/clusters`, once: asks for a server for the multiplayer session at
    /// path `sessionId`, or polls a request already made (posting the same path never queues it
    /// twice). `abortIfQueued` matters only on the first post.
    public func requestCluster(sessionId: String, abortIfQueued: Bool = false) async throws(TitleClientError)
        -> ClusterResponse
    {
        try await clusterAnswer(sessionId: sessionId, abortIfQueued: abortIfQueued).value
    }

    /// Posts to `/clusters` and keeps polling, sleeping the `pollIntervalMilliseconds` each
    /// answer recommends, until the request is `Fulfilled` or `Aborted` or `timeout` has passed.
    /// Returns the last answer, which is still `Queued` when the time ran out (the request stays
    /// queued until gsmsd's `--queue-timeout` passes without a poll).
    public func waitForCluster(sessionId: String, abortIfQueued: Bool = false, timeout: Duration)
        async throws(TitleClientError) -> ClusterResponse
    {
        try await waitForClusterAnswer(sessionId: sessionId, abortIfQueued: abortIfQueued, timeout: timeout).value
    }

    /// Our extension `DELETE /titles/{titleId}/sessionhosts/{sessionId}`: shuts the session
    /// down (its game is told through its agent; the host is released). Throws with code
    /// `SessionNotFound` (404) when the title has no such session.
    public func shutDown(sessionId: String) async throws(TitleClientError) -> SessionShutdown {
        let raw = try await transport.send(
            .DELETE, titlePath + "/sessionhosts/" + GSMSTransport.percentEncoded(sessionId), body: nil)
        return try transport.decode(raw, as: SessionShutdown.self).value
    }

    /// Our extension `GET /titles/{titleId}/sessionhosts/{sessionId}/players`: the players the
    /// session's game server last reported. Throws with code `SessionNotFound` (404) when the
    /// title has no Active session with that id.
    public func players(sessionId: String) async throws(TitleClientError) -> SessionPlayers {
        try await playersAnswer(sessionId: sessionId).value
    }

    // MARK: Answers with their bodies (for sessionhostctl --json)

    package typealias Answer = GSMSAnswer

    package func allocateAnswer(_ request: SessionHostAllocationRequest) async throws(TitleClientError) -> Answer<
        SessionHostAllocation
    > {
        let body = try GSMSTransport.encode(request)
        let raw = try await transport.send(.POST, titlePath + "/sessionhosts", body: body)
        return try transport.decode(raw, as: SessionHostAllocation.self)
    }

    package func sessionHostAnswer(sessionId: String) async throws(TitleClientError) -> Answer<SessionHostAllocation>? {
        let raw = try await transport.send(
            .GET, titlePath + "/sessionhosts/" + GSMSTransport.percentEncoded(sessionId), body: nil)
        if raw.status == 404, let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(raw.body)),
            TitleClientError.Code(rawValue: error.code) == .sessionNotFound
        {
            return nil
        }
        return try transport.decode(raw, as: SessionHostAllocation.self)
    }

    package func playersAnswer(sessionId: String) async throws(TitleClientError) -> Answer<SessionPlayers> {
        let raw = try await transport.send(
            .GET, titlePath + "/sessionhosts/" + GSMSTransport.percentEncoded(sessionId) + "/players", body: nil)
        return try transport.decode(raw, as: SessionPlayers.self)
    }

    package func clusterAnswer(sessionId: String, abortIfQueued: Bool) async throws(TitleClientError) -> Answer<
        ClusterResponse
    > {
        let body = try GSMSTransport.encode(ClusterRequest(sessionId: sessionId, abortIfQueued: abortIfQueued))
        let raw = try await transport.send(
            .POST, titlePath + "/clusters", body: body, headers: [("x-xbl-contract-version", "1")])
        return try transport.decode(raw, as: ClusterResponse.self)
    }

    package func waitForClusterAnswer(sessionId: String, abortIfQueued: Bool, timeout: Duration)
        async throws(TitleClientError) -> Answer<ClusterResponse>
    {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let answer = try await clusterAnswer(sessionId: sessionId, abortIfQueued: abortIfQueued)
            guard answer.value.fulfillmentState == .queued else { return answer }
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else { return answer }
            let interval = Duration.milliseconds(max(answer.value.pollIntervalMilliseconds, 50))
            try await GSMSTransport.sleep(min(interval, remaining), correlationId: answer.correlationId)
        }
    }

    private var titlePath: String { "/titles/" + GSMSTransport.percentEncoded(titleId) }

    /// `text` percent-encoded for one path segment.
    static func percentEncoded(_ text: String) -> String { GSMSTransport.percentEncoded(text) }
}
