import SessionHostModel

/// What an `HTTPServer`'s handler answers: a whole document, or a stream of chunks. Every answer
/// gets `Cache-Control: no-store`; whole documents get their `Content-Length`, streams are chunked.
public enum HTTPServerResponse: Sendable {
    /// A JSON document, with the server's JSON content type (`HTTPServer.Configuration`).
    case json(status: Int, body: [UInt8], headers: [(String, String)] = [])
    /// A document of another type.
    case content(status: Int, contentType: String, body: [UInt8], headers: [(String, String)] = [])
    /// A 200 answer sent as its chunks come, ending with the stream (e.g. NDJSON events). The
    /// source should end its stream when the server's `stopping` signal fires.
    case stream(contentType: String, lines: AsyncStream<[UInt8]>)

    public var status: Int {
        switch self {
        case .json(let status, _, _), .content(let status, _, _, _): status
        case .stream: 200
        }
    }

    /// The JSON error envelope `{"code": …, "message": …}` (`HTTPErrorEnvelope`).
    public static func error(status: Int, _ body: ErrorBody, headers: [(String, String)] = []) -> HTTPServerResponse {
        .json(status: status, body: HTTPErrorEnvelope.encode(body), headers: headers)
    }

    /// The JSON error envelope with `code` and `message`.
    public static func error(status: Int, code: String, message: String, headers: [(String, String)] = [])
        -> HTTPServerResponse
    {
        error(status: status, ErrorBody(code: code, message: message), headers: headers)
    }
}
