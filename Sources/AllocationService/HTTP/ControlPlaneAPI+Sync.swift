import AllocationStore
import Hummingbird
import SessionHostModel

/// `POST /agent/v1/sync`: one agent registers or heartbeats all of its hosts (its slots) in one
/// request (docs/control-plane-api.md). Each host runs exactly the per-host code
/// (`register(hostId:_:)`, `recordHeartbeat(hostId:_:)`), and gets the status or the error the
/// per-host call would have answered.
extension ControlPlaneAPI {
    /// The largest body of a call for several hosts: 16 KiB per host (a registration is at most
    /// about 9 KiB: a 4 KiB secure context and 64 port mappings).
    static let maximumSyncRequestBytes = HostSyncRequest.maximumHosts * 16 * 1024

    func registerAgentChannel(on router: Router<GSMSRequestContext>) {
        router.post("agent/v1/sync") { request, _ in
            try await sync(request)
        }
        router.post("agent/v1/handoffs") { request, context in
            try await waitForHandoffs(request, connection: context.channel)
        }
        MethodNotAllowed.register(on: router, path: "agent/v1/sync", allowed: [.post])
        MethodNotAllowed.register(on: router, path: "agent/v1/handoffs", allowed: [.post])
    }

    /// Checks the fleet secret, the form of the host key, the body and its host list; then each
    /// host in turn, in the order asked. A host's refusal (4xx) is its result; a failure of the
    /// store or an unexpected error (5xx) fails the whole request, which the agent retries (every
    /// part of it is idempotent).
    func sync(_ request: Request) async throws -> Response {
        try fleet.authenticate(request)
        let digest = try HostKeyAuthenticator.digest(of: request)
        let body = try await JSONBody.decode(HostSyncRequest.self, from: request, limit: Self.maximumSyncRequestBytes)
        try Self.checkHostList(body.hosts.map(\.sessionHostId))
        let parts = try body.hosts.map { report throws(APIError) in
            switch (report.registration, report.heartbeat) {
            case (let registration?, nil): (report.sessionHostId, SyncPart.registration(registration))
            case (nil, let heartbeat?): (report.sessionHostId, SyncPart.heartbeat(heartbeat))
            default:
                throw APIError.badRequest(
                    code: .invalidHostReport,
                    "host \(report.sessionHostId) must carry exactly one of 'registration' and 'heartbeat'")
            }
        }
        let correlationId = APIResponseMiddleware<GSMSRequestContext>.correlationId(from: request)
        var results: [HostSyncResult] = []
        results.reserveCapacity(parts.count)
        for (hostId, part) in parts {
            results.append(try await sync(part, hostId: hostId, digest: digest, correlationId: correlationId))
        }
        return try JSONBody.response(HostSyncAnswer(hosts: results))
    }

    /// One host's part of a sync: what it reports.
    private enum SyncPart {
        case registration(HostRegistration)
        case heartbeat(HostHeartbeat)
    }

    private func sync(_ part: SyncPart, hostId: String, digest: String, correlationId: String) async throws
        -> HostSyncResult
    {
        do {
            let status: HostStatus
            switch part {
            case .registration(let registration):
                try await hostKeys.authenticate(digest: digest, hostId: hostId, registering: true)
                status = try await register(hostId: hostId, registration)
            case .heartbeat(let heartbeat):
                try await hostKeys.authenticate(digest: digest, hostId: hostId, registering: false)
                status = try await recordHeartbeat(hostId: hostId, heartbeat)
            }
            return HostSyncResult(sessionHostId: hostId, status: status)
        } catch {
            guard let refusal = APIError.answer(for: error), refusal.status.code < 500 else { throw error }
            hostRefused(refusal, hostId: hostId, path: "/agent/v1/sync", correlationId: correlationId)
            return HostSyncResult(
                sessionHostId: hostId,
                error: HostSyncError(
                    status: Int(refusal.status.code), code: refusal.code.rawValue, message: refusal.message))
        }
    }

    /// Logs the refusal of one host of a call for several, as the refusal of a per-host call is.
    func hostRefused(_ refusal: APIError, hostId: String, path: String, correlationId: String) {
        refusals.answered(
            method: "POST", path: path, status: Int(refusal.status.code), code: refusal.code.rawValue,
            message: refusal.message, correlationId: correlationId, hostId: hostId)
    }

    /// Throws 400 unless `hostIds` has 1 to 64 valid ids (`InvalidHostCount`, `InvalidHostId`),
    /// none twice (`DuplicateHostId`).
    static func checkHostList(_ hostIds: [String]) throws(APIError) {
        guard (1...HostSyncRequest.maximumHosts).contains(hostIds.count) else {
            throw APIError.badRequest(
                code: .invalidHostCount,
                "a request names 1 to \(HostSyncRequest.maximumHosts) session hosts, not \(hostIds.count)")
        }
        var seen = Set<String>()
        for hostId in hostIds {
            try checkHostId(hostId)
            guard seen.insert(hostId).inserted else {
                throw APIError.badRequest(code: .duplicateHostId, "session host \(hostId) is named more than once")
            }
        }
    }
}
