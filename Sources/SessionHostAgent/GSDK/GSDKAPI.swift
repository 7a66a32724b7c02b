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

    enum Route: Equatable {
        case heartbeat
        case gsdkInfo
    }

    public func handle(method: String, target: String, body: [UInt8]) async -> AgentResponse {
        let path = String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        // Route names ignore case, as PlayFab's agent does; the host id is compared exactly.
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        let names = segments.map { $0.lowercased() }
        let route: Route
        let allowed: String
        let hostId: String
        switch segments.count {
        case 3 where names[0] == "v1" && names[1] == "sessionhosts":
            (route, allowed, hostId) = (.heartbeat, "PATCH", segments[2])
        case 4 where names[0] == "v1" && names[1] == "sessionhosts" && names[3] == "heartbeats":
            (route, allowed, hostId) = (.heartbeat, "POST", segments[2])
        case 4 where names[0] == "v1" && names[1] == "metrics" && names[3] == "gsdkinfo":
            (route, allowed, hostId) = (.gsdkInfo, "POST", segments[2])
        default:
            return GameSocketAPI.error(AgentError(status: 404, code: "NotFound", message: "no such GSDK endpoint: \(path.prefix(200))"))
        }
        guard method == allowed else {
            return GameSocketAPI.error(
                AgentError(status: 405, code: "MethodNotAllowed", message: "\(path.prefix(200)) takes \(allowed)"),
                headers: [("Allow", allowed)])
        }
        guard hostId == frontEnd.sessionHostId else {
            return GameSocketAPI.error(AgentError(
                status: 404, code: "UnknownSessionHost",
                message: "this agent serves session host \(frontEnd.sessionHostId), not \(hostId.prefix(200)); read the id from the GSDK config file"))
        }
        do {
            return try await answer(route, body: body)
        } catch {
            return GameSocketAPI.error(error)
        }
    }

    private func answer(_ route: Route, body: [UInt8]) async throws(AgentError) -> AgentResponse {
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
