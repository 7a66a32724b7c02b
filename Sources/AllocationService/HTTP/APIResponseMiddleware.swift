import AllocationStore
import HTTPTypes
import Hummingbird
import Logging
import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Gives every response the headers of SPEC §2 and turns every error into a JSON error body:
/// `Content-Type: application/json`, `Cache-Control: no-store`, `X-Content-Type-Options: nosniff`,
/// and `X-XblCorrelationId` (the request's value echoed, else a new GUID). Hummingbird adds `Date`
/// and `Content-Length`. Unexpected errors are logged and answered 500 without details.
struct APIResponseMiddleware<Context: RequestContext>: RouterMiddleware {
    static var correlationHeader: HTTPField.Name { HTTPField.Name("X-XblCorrelationId")! }

    let logger: Logger
    let refusals: RefusalLog

    init(logger: Logger, metrics: GSMSMetrics? = nil) {
        self.logger = logger
        self.refusals = RefusalLog(logger: logger, metrics: metrics)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let correlationId = Self.correlationId(from: request)
        var response: Response
        /// The error answered, unless it was logged where it was caught.
        var refusal: APIError?
        do {
            response = try await next(request, context)
        } catch {
            if let answer = APIError.answer(for: error) {
                if let error = error as? StoreError, error.code == .storeUnavailable {
                    logger.error(
                        "the inventory store failed",
                        metadata: ["error": "\(error.message)", "correlation_id": "\(correlationId)"])
                } else {
                    refusal = answer
                }
                response = Self.errorResponse(answer)
            } else {
                logger.error(
                    "unexpected error",
                    metadata: [
                        "error": "\(error)", "path": "\(request.uri.path)", "correlation_id": "\(correlationId)",
                    ])
                response = Self.errorResponse(
                    APIError(
                        .internalServerError, code: .internalError,
                        "unexpected error; quote correlation id \(correlationId)"))
            }
        }
        if let refusal {
            refusals.answered(
                method: request.method.rawValue, path: request.uri.path, status: Int(refusal.status.code),
                code: refusal.code.rawValue,
                message: refusal.message, correlationId: correlationId)
        }
        if response.headers[.contentType] == nil {
            response.headers[.contentType] = "application/json"
        }
        response.headers[.cacheControl] = "no-store"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[Self.correlationHeader] = correlationId
        return response
    }

    /// The HTTP status the response to `error` has (as `handle` answers it).
    static func status(for error: any Error) -> Int {
        Int(APIError.answer(for: error)?.status.code ?? 500)
    }

    /// The caller's correlation id when it is a sensible token (at most 128 visible ASCII
    /// characters), else a new GUID.
    static func correlationId(from request: Request) -> String {
        if let given = request.headers[correlationHeader], !given.isEmpty, given.utf8.count <= 128,
            given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        {
            return given
        }
        return UUID().uuidString.lowercased()
    }

    static func errorResponse(_ error: APIError) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys] // members in the documented, stable order
        let data = (try? encoder.encode(ErrorBody(code: error.code.rawValue, message: error.message))) ?? Data()
        var response = Response(
            status: error.status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        for (name, value) in error.headers {
            if let field = HTTPField.Name(name) { response.headers[field] = value }
        }
        return response
    }
}
