import SessionHostHTTP
import SessionHostModel

/// The routes of the GSDK agent protocol, independent of the HTTP server that read the request:
///
/// - `PATCH /v1/sessionHosts/{id}`: the heartbeat of the C++, C#, Java and Unreal SDKs;
/// - `POST /v1/sessionHosts/{id}/heartbeats`: the same heartbeat, as the Go SDK sends it;
/// - `POST /v1/metrics/{id}/gsdkinfo`: the SDK's flavour and version.
///
/// `{id}` must be this host's session host id (the one in the GSDK config file). Errors are the
/// agent's JSON errors (`{"code": …, "message": …}`); bodies are limited like the socket API's.
public struct GSDKAPI: Sendable {
    public let frontEnd: GSDKFrontEnd

    public init(frontEnd: GSDKFrontEnd) {
        self.frontEnd = frontEnd
    }

    enum Endpoint: Sendable, Equatable {
        case heartbeat
        case gsdkInfo
    }

    /// The routes; their names ignore case, as PlayFab's agent does (the host id is compared exactly).
    static let table = RouteTable<Endpoint>(
        ignoringCase: true,
        [
            Route("PATCH", "/v1/sessionHosts/{id}", .heartbeat),
            Route("POST", "/v1/sessionHosts/{id}/heartbeats", .heartbeat),
            Route("POST", "/v1/metrics/{id}/gsdkinfo", .gsdkInfo),
        ])

    public func handle(method: String, target: String, body: [UInt8]) async -> AgentResponse {
        await handle(AgentRequest(method: method, target: target, body: body))
    }

    public func handle(_ request: AgentRequest) async -> AgentResponse {
        let path = request.path
        switch Self.table.match(method: request.method, path: path) {
        case .notFound:
            return GameSocketAPI.error(
                AgentError(.notFound, code: .notFound, message: "no such GSDK endpoint: \(path.prefix(200))"))
        case .methodNotAllowed(let methods):
            let allowed = RouteMatch<Endpoint>.allowHeader(methods)
            return GameSocketAPI.error(
                AgentError(.methodNotAllowed, code: .methodNotAllowed, message: "\(path.prefix(200)) takes \(allowed)"),
                headers: [("Allow", allowed)])
        case .found(let endpoint, let parameters):
            let hostId = parameters["id"] ?? ""
            guard hostId == frontEnd.sessionHostId else {
                return GameSocketAPI.error(
                    AgentError(
                        .notFound, code: .unknownSessionHost,
                        message:
                            "this agent serves session host \(frontEnd.sessionHostId), not \(hostId.prefix(200)); read the id from the GSDK config file"
                    ))
            }
            do {
                return try await answer(endpoint, body: request.body)
            } catch {
                return GameSocketAPI.error(error)
            }
        }
    }

    private func answer(_ route: Endpoint, body: [UInt8]) async throws(AgentError) -> AgentResponse {
        switch route {
        case .heartbeat:
            guard let request: GSDKHeartbeatRequest = try GameSocketAPI.decodeBody(body) else {
                throw .malformed("the heartbeat needs a JSON object with CurrentGameState")
            }
            return GameSocketAPI.ok(try await frontEnd.heartbeat(request))
        case .gsdkInfo:
            guard let info: GSDKInfoReport = try GameSocketAPI.decodeBody(body) else {
                throw .malformed("gsdkinfo needs a JSON object with Flavor and Version")
            }
            try await frontEnd.report(info)
            return .json(status: 200, body: Array("{}".utf8))
        }
    }
}
