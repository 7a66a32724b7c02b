import SessionHostHTTP

/// A request to the agent socket API (or the GSDK listener), as `HTTPServer` reads it.
public typealias AgentRequest = HTTPServerRequest

/// What the agent answers: a JSON document, or a stream of NDJSON lines.
public typealias AgentResponse = HTTPServerResponse
