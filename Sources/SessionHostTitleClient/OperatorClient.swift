import AsyncHTTPClient
import SessionHostModel

@_exported import struct SessionHostModel.OperatorHost
@_exported import struct SessionHostModel.OperatorHostPage
@_exported import struct SessionHostModel.OperatorSession
@_exported import struct SessionHostModel.OperatorSessionPage
@_exported import struct SessionHostModel.DrainRequest
@_exported import struct SessionHostModel.DrainAnswer
@_exported import struct SessionHostModel.SessionShutdown
@_exported import struct SessionHostModel.StandbyBufferReport

/// A client of gsmsd's operator API (`/operator/v1/…`, docs/rest-api.md "Operator API"): the
/// fleet's hosts and sessions, drains, shutdowns and standby buffers. Sends
/// `Authorization: Bearer <operator secret>` (gsmsd `--operator-token-file`).
///
/// ```swift
/// let fleet = OperatorClient(baseURL: "http://127.0.0.1:8080", secret: operatorSecret)
/// let draining = try await fleet.hosts(["titleId": "1234", "draining": "true"])
/// ```
public struct OperatorClient: Sendable {
    private let transport: GSMSTransport

    public init(
        baseURL: String, secret: String, retry: RetryPolicy = .default, requestTimeout: Duration = .seconds(30),
        httpClient: HTTPClient = TitleClient.defaultHTTPClient
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        transport = GSMSTransport(
            baseURL: base, retry: retry, requestTimeout: requestTimeout, http: httpClient,
            userAgent: "SessionHostOperatorClient", authorization: { "Bearer " + secret })
    }

    /// `GET /operator/v1/hosts` with these query parameters (`titleId`, `region`, `state`,
    /// `vmId`, `draining`, `limit`, `after`).
    public func hosts(_ query: [(String, String)] = []) async throws(TitleClientError) -> OperatorHostPage {
        try await hostsAnswer(query).value
    }

    /// `GET /operator/v1/sessions` with these query parameters (`titleId`, `region`, `vmId`,
    /// `playerId`, `limit`, `after`).
    public func sessions(_ query: [(String, String)] = []) async throws(TitleClientError) -> OperatorSessionPage {
        try await sessionsAnswer(query).value
    }

    /// `GET /operator/v1/titles/{titleId}/sessions/{sessionId}`: the session with its players.
    public func session(titleId: String, sessionId: String) async throws(TitleClientError) -> OperatorSession {
        try await sessionAnswer(titleId: titleId, sessionId: sessionId).value
    }

    /// `DELETE /operator/v1/titles/{titleId}/sessions/{sessionId}`: shuts the session down.
    public func shutDown(titleId: String, sessionId: String) async throws(TitleClientError) -> SessionShutdown {
        try await shutDownAnswer(titleId: titleId, sessionId: sessionId).value
    }

    /// `POST /operator/v1/drains`.
    public func drain(_ request: DrainRequest) async throws(TitleClientError) -> DrainAnswer {
        try await drainAnswer(request).value
    }

    /// `GET /operator/v1/buffers`.
    public func buffers() async throws(TitleClientError) -> StandbyBufferReport {
        try await buffersAnswer().value
    }

    // MARK: Answers with their bodies (for sessionhostctl --json)

    package func hostsAnswer(_ query: [(String, String)]) async throws(TitleClientError) -> GSMSAnswer<
        OperatorHostPage
    > {
        let raw = try await transport.send(.GET, "/operator/v1/hosts" + Self.queryString(query), body: nil)
        return try transport.decode(raw, as: OperatorHostPage.self)
    }

    package func sessionsAnswer(_ query: [(String, String)]) async throws(TitleClientError) -> GSMSAnswer<
        OperatorSessionPage
    > {
        let raw = try await transport.send(.GET, "/operator/v1/sessions" + Self.queryString(query), body: nil)
        return try transport.decode(raw, as: OperatorSessionPage.self)
    }

    package func sessionAnswer(titleId: String, sessionId: String) async throws(TitleClientError) -> GSMSAnswer<
        OperatorSession
    > {
        let raw = try await transport.send(.GET, Self.sessionPath(titleId, sessionId), body: nil)
        return try transport.decode(raw, as: OperatorSession.self)
    }

    package func shutDownAnswer(titleId: String, sessionId: String) async throws(TitleClientError) -> GSMSAnswer<
        SessionShutdown
    > {
        let raw = try await transport.send(.DELETE, Self.sessionPath(titleId, sessionId), body: nil)
        return try transport.decode(raw, as: SessionShutdown.self)
    }

    package func drainAnswer(_ request: DrainRequest) async throws(TitleClientError) -> GSMSAnswer<DrainAnswer> {
        let raw = try await transport.send(.POST, "/operator/v1/drains", body: try GSMSTransport.encode(request))
        return try transport.decode(raw, as: DrainAnswer.self)
    }

    package func buffersAnswer() async throws(TitleClientError) -> GSMSAnswer<StandbyBufferReport> {
        let raw = try await transport.send(.GET, "/operator/v1/buffers", body: nil)
        return try transport.decode(raw, as: StandbyBufferReport.self)
    }

    private static func sessionPath(_ titleId: String, _ sessionId: String) -> String {
        "/operator/v1/titles/" + GSMSTransport.percentEncoded(titleId) + "/sessions/"
            + GSMSTransport.percentEncoded(sessionId)
    }

    static func queryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        return "?"
            + query.map { GSMSTransport.percentEncoded($0.0) + "=" + GSMSTransport.percentEncoded($0.1) }
            .joined(separator: "&")
    }
}
