import Hummingbird
import NIOCore
import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reading and writing the JSON bodies of both APIs.
enum JSONBody {
    /// The largest request body accepted; bigger ones get 413.
    static let maximumRequestBytes = 64 * 1024

    /// Collects the body (at most `limit`, 64 KiB unless told) and decodes it; malformed JSON or
    /// wrong types get 400 with a message naming the member.
    static func decode<Body: Decodable>(
        _ type: Body.Type, from request: Request, limit: Int = maximumRequestBytes
    ) async throws -> Body {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, code: .bodyTooLarge, "the request body is larger than \(limit) bytes")
        }
        do {
            return try JSONDecoder().decode(Body.self, from: Data(buffer.readableBytesView))
        } catch let error as InvalidInput {
            throw APIError(error)
        } catch {
            throw APIError.badRequest(code: .malformedBody, DecodingErrorDescription.describe(error))
        }
    }

    /// A JSON response with `Content-Type: application/json` (and `Content-Length`).
    static func response<Body: Encodable>(_ body: Body, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(body)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
