import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A decoded answer of gsmsd with the body it came from (for `sessionhostctl --json`).
package struct GSMSAnswer<Value: Sendable>: Sendable {
    package var value: Value
    /// The service's JSON body, unchanged.
    package var body: [UInt8]
    package var correlationId: String
}

/// How ``TitleClient`` and ``OperatorClient`` call gsmsd: one correlation id per call, JSON in
/// and out, transient failures retried as ``RetryPolicy`` says, gsmsd's error bodies turned into
/// ``TitleClientError``. Only the `Authorization` value differs between the two.
package struct GSMSTransport: Sendable {
    package let baseURL: String
    let retry: RetryPolicy
    let requestTimeout: Duration
    let http: HTTPClient
    let userAgent: String
    /// The whole `Authorization` value, asked for before every attempt.
    let authorization: @Sendable () async throws -> String

    /// The largest answer body read, in bytes.
    static let maximumAnswerSize = 1 << 20

    package init(
        baseURL: String, retry: RetryPolicy, requestTimeout: Duration, http: HTTPClient, userAgent: String,
        authorization: @escaping @Sendable () async throws -> String
    ) {
        self.baseURL = baseURL
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.http = http
        self.userAgent = userAgent
        self.authorization = authorization
    }

    /// The last answer of a call: 200, or a status that is final or out of retries.
    package struct RawAnswer: Sendable {
        var status: Int
        var body: [UInt8]
        var correlationId: String
    }

    /// Sends one call, retrying transient failures; throws only when nothing answered (or the
    /// call could not be made).
    package func send(_ method: HTTPMethod, _ path: String, body: [UInt8]?, headers: [(String, String)] = [])
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
            let authorizationValue: String
            do {
                authorizationValue = try await self.authorization()
            } catch is CancellationError {
                throw Self.cancelled(correlationId)
            } catch {
                throw TitleClientError(
                    status: nil, code: .tokenUnavailable,
                    message: "the token provider failed: \(error)", correlationId: correlationId)
            }
            var request = HTTPClientRequest(url: baseURL + path)
            request.method = method
            request.headers.add(name: "Authorization", value: authorizationValue)
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Accept", value: "application/json")
            request.headers.add(name: "X-XblCorrelationId", value: correlationId)
            request.headers.add(name: "User-Agent", value: userAgent)
            for (name, value) in headers { request.headers.add(name: name, value: value) }
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

    package static func sleep(_ duration: Duration, correlationId: String) async throws(TitleClientError) {
        guard duration > .zero else { return }
        do {
            try await Task.sleep(for: duration)
        } catch {
            throw cancelled(correlationId)
        }
    }

    package static func cancelled(_ correlationId: String) -> TitleClientError {
        TitleClientError(status: nil, code: .cancelled, message: "the call was cancelled", correlationId: correlationId)
    }

    package static func encode<Body: Encodable>(_ body: Body) throws(TitleClientError) -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(body))
        } catch {
            throw TitleClientError(
                status: nil, code: .invalidRequest, message: "cannot encode the request: \(error)", correlationId: nil)
        }
    }

    /// The value of a 200 answer; any other status becomes the service's error.
    package func decode<Value: Decodable & Sendable>(_ raw: RawAnswer, as type: Value.Type) throws(TitleClientError)
        -> GSMSAnswer<Value>
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
            return GSMSAnswer(
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
    package static func percentEncoded(_ text: String) -> String {
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
