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

    private let token: @Sendable () async throws -> String
    private let http: HTTPClient

    /// The largest answer body read, in bytes.
    static let maximumAnswerSize = 1 << 20

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
        self.token = token
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.http = httpClient
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

    // MARK: Answers with their bodies (for sessionhostctl --json)

    /// A decoded answer with the body it came from.
    package struct Answer<Value: Sendable>: Sendable {
        package var value: Value
        /// The service's JSON body, unchanged.
        package var body: [UInt8]
        package var correlationId: String
    }

    package func allocateAnswer(_ request: SessionHostAllocationRequest) async throws(TitleClientError) -> Answer<
        SessionHostAllocation
    > {
        let body = try encode(request)
        let raw = try await send(.POST, titlePath + "/sessionhosts", body: body, contractVersion: false)
        return try decode(raw, as: SessionHostAllocation.self)
    }

    package func sessionHostAnswer(sessionId: String) async throws(TitleClientError) -> Answer<SessionHostAllocation>? {
        let raw = try await send(
            .GET, titlePath + "/sessionhosts/" + Self.percentEncoded(sessionId), body: nil, contractVersion: false)
        if raw.status == 404, let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(raw.body)),
            TitleClientError.Code(rawValue: error.code) == .sessionNotFound
        {
            return nil
        }
        return try decode(raw, as: SessionHostAllocation.self)
    }

    package func clusterAnswer(sessionId: String, abortIfQueued: Bool) async throws(TitleClientError) -> Answer<
        ClusterResponse
    > {
        let body = try encode(ClusterRequest(sessionId: sessionId, abortIfQueued: abortIfQueued))
        let raw = try await send(.POST, titlePath + "/clusters", body: body, contractVersion: true)
        return try decode(raw, as: ClusterResponse.self)
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
            try await Self.sleep(min(interval, remaining), correlationId: answer.correlationId)
        }
    }

    // MARK: Sending

    private var titlePath: String { "/titles/" + Self.percentEncoded(titleId) }

    /// The last answer of a call: 200, or a status that is final or out of retries.
    private struct RawAnswer {
        var status: Int
        var body: [UInt8]
        var correlationId: String
    }

    /// Sends one call, retrying transient failures; throws only when nothing answered (or the
    /// call could not be made).
    private func send(_ method: HTTPMethod, _ path: String, body: [UInt8]?, contractVersion: Bool)
        async throws(TitleClientError) -> RawAnswer
    {
        let correlationId = UUID().uuidString.lowercased()
        guard baseURL.lowercased().hasPrefix("http://") || baseURL.lowercased().hasPrefix("https://") else {
            throw TitleClientError(
                status: nil, code: .invalidRequest,
                message: "the service URL must start with http:// or https://, got '\(baseURL.prefix(200))'",
                correlationId: correlationId)
        }
        let timeout = TimeAmount.nanoseconds(Int64(min(requestTimeout.seconds, 86_400) * 1e9))
        var attempt = 0
        while true {
            attempt += 1
            let token: String
            do {
                token = try await self.token()
            } catch is CancellationError {
                throw Self.cancelled(correlationId)
            } catch {
                throw TitleClientError(
                    status: nil, code: .tokenUnavailable,
                    message: "the token provider failed: \(error)", correlationId: correlationId)
            }
            var request = HTTPClientRequest(url: baseURL + path)
            request.method = method
            request.headers.add(name: "Authorization", value: "XBL3.0 x=-;" + token)
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Accept", value: "application/json")
            request.headers.add(name: "X-XblCorrelationId", value: correlationId)
            request.headers.add(name: "User-Agent", value: "SessionHostTitleClient")
            if contractVersion { request.headers.add(name: "x-xbl-contract-version", value: "1") }
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }

            let failure: any Error
            do {
                let response = try await http.execute(request, timeout: timeout)
                let bytes = try await response.body.collect(upTo: Self.maximumAnswerSize)
                let status = Int(response.status.code)
                let answer = RawAnswer(
                    status: status, body: Array(bytes.readableBytesView),
                    correlationId: response.headers.first(name: "X-XblCorrelationId") ?? correlationId)
                guard RetryPolicy.isRetryable(status: status), attempt < retry.maximumAttempts else { return answer }
                let retryAfter = response.headers.first(name: "Retry-After").flatMap {
                    Int($0.filter { !$0.isWhitespace })
                }
                try await Self.sleep(
                    retry.delay(afterAttempt: attempt, retryAfterSeconds: retryAfter), correlationId: correlationId)
                continue
            } catch let error as TitleClientError {
                throw error
            } catch is NIOTooManyBytesError {
                throw TitleClientError(
                    status: nil, code: .invalidAnswer,
                    message:
                        "the answer of \(baseURL) to \(method) \(path) is larger than \(Self.maximumAnswerSize) bytes",
                    correlationId: correlationId)
            } catch {
                failure = error
            }
            if Task.isCancelled { throw Self.cancelled(correlationId) }
            guard attempt < retry.maximumAttempts else {
                throw TitleClientError(
                    status: nil, code: .unreachable,
                    message:
                        "cannot reach gsmsd at \(baseURL) (\(attempt) attempt\(attempt == 1 ? "" : "s")): \(failure)",
                    correlationId: correlationId)
            }
            try await Self.sleep(
                retry.delay(afterAttempt: attempt, retryAfterSeconds: nil), correlationId: correlationId)
        }
    }

    private static func sleep(_ duration: Duration, correlationId: String) async throws(TitleClientError) {
        guard duration > .zero else { return }
        do {
            try await Task.sleep(for: duration)
        } catch {
            throw cancelled(correlationId)
        }
    }

    private static func cancelled(_ correlationId: String) -> TitleClientError {
        TitleClientError(status: nil, code: .cancelled, message: "the call was cancelled", correlationId: correlationId)
    }

    private func encode<Body: Encodable>(_ body: Body) throws(TitleClientError) -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(body))
        } catch {
            throw TitleClientError(
                status: nil, code: .invalidRequest, message: "cannot encode the request: \(error)", correlationId: nil)
        }
    }

    /// The value of a 200 answer; any other status becomes the service's error.
    private func decode<Value: Decodable & Sendable>(_ raw: RawAnswer, as type: Value.Type) throws(TitleClientError)
        -> Answer<Value>
    {
        let data = Data(raw.body)
        guard raw.status == 200 else {
            if let error = try? JSONDecoder().decode(ErrorBody.self, from: data) {
                throw TitleClientError(
                    status: raw.status, code: TitleClientError.Code(rawValue: error.code), message: error.message,
                    correlationId: raw.correlationId)
            }
            throw TitleClientError(
                status: raw.status, code: .invalidAnswer,
                message:
                    "\(baseURL) answered HTTP \(raw.status) without a gsmsd error body: \(String(decoding: raw.body.prefix(200), as: UTF8.self))",
                correlationId: raw.correlationId)
        }
        do {
            return Answer(
                value: try JSONDecoder().decode(Value.self, from: data), body: raw.body,
                correlationId: raw.correlationId)
        } catch {
            throw TitleClientError(
                status: raw.status, code: .invalidAnswer,
                message: "the answer of \(baseURL) is not understood: \(DecodingErrorDescription.describe(error))",
                correlationId: raw.correlationId)
        }
    }

    /// `text` with everything but RFC 3986 unreserved characters percent-encoded, for one path segment.
    static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                result.unicodeScalars.append("%")
                result.unicodeScalars.append(hex[Int(byte >> 4)])
                result.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return result
    }
}
