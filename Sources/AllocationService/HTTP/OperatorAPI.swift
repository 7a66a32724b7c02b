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

/// The operator API (docs/rest-api.md, "Operator API"), authenticated with the operator secret
/// (`--operator-token-file`); title tokens and the fleet secret are refused. Served only when
/// gsmsd has an operator secret.
///
/// | method, path | what it does |
/// |---|---|
/// | `GET /operator/v1/hosts` | hosts, filtered by `titleId`, `region`, `state`, `vmId`, `draining`; paged |
/// | `GET /operator/v1/sessions` | sessions, filtered by `titleId`, `region`, `vmId`, `playerId`; paged |
/// | `GET /operator/v1/titles/{titleId}/sessions/{sessionId}` | one session with its players |
/// | `DELETE /operator/v1/titles/{titleId}/sessions/{sessionId}` | shut the session down |
/// | `POST /operator/v1/drains` | drain a VM, a title's region or a title |
/// | `GET /operator/v1/buffers` | the standby buffers: counts and the VMs wanted |
struct OperatorAPI: Sendable {
    let store: any InventoryStore
    let secret: BearerSecretAuthenticator
    let operations: FleetOperations
    /// The standby buffers' latest report.
    let buffers: @Sendable () async throws -> StandbyBufferReport

    func register(on router: Router<GSMSRequestContext>) {
        router.get("operator/v1/hosts") { request, _ in
            try secret.authenticate(request)
            return try JSONBody.response(try await hosts(request))
        }
        router.get("operator/v1/sessions") { request, _ in
            try secret.authenticate(request)
            return try JSONBody.response(try await sessions(request))
        }
        let session = "operator/v1/titles/:titleId/sessions/:sessionId"
        router.get(RouterPath(session)) { request, context in
            try secret.authenticate(request)
            let (titleId, sessionId) = try Self.sessionKey(context)
            guard let listing = try await store.sessionListing(titleId: titleId, sessionId: sessionId) else {
                throw APIError.notFound(
                    code: .sessionNotFound, "title \(titleId) has no Allocating or Active session \(sessionId)")
            }
            return try JSONBody.response(Self.session(listing))
        }
        router.delete(RouterPath(session)) { request, context in
            try secret.authenticate(request)
            let (titleId, sessionId) = try Self.sessionKey(context)
            return try JSONBody.response(
                try await operations.shutdown(titleId: titleId, sessionId: sessionId, by: "operator"))
        }
        router.post("operator/v1/drains") { request, _ in
            try secret.authenticate(request)
            let body = try await JSONBody.decode(DrainRequest.self, from: request)
            return try JSONBody.response(try await operations.drain(body))
        }
        router.get("operator/v1/buffers") { request, _ in
            try secret.authenticate(request)
            return try JSONBody.response(try await buffers())
        }
        MethodNotAllowed.register(on: router, path: "operator/v1/hosts", allowed: [.get])
        MethodNotAllowed.register(on: router, path: "operator/v1/sessions", allowed: [.get])
        MethodNotAllowed.register(on: router, path: RouterPath(session), allowed: [.get, .delete])
        MethodNotAllowed.register(on: router, path: "operator/v1/drains", allowed: [.post])
        MethodNotAllowed.register(on: router, path: "operator/v1/buffers", allowed: [.get])
    }

    func hosts(_ request: Request) async throws -> OperatorHostPage {
        let query = try OperatorQuery(request, allowed: ["titleId", "region", "state", "vmId", "draining"])
        let filter = HostFilter(
            titleId: try query.titleId(), region: try query.text("region"), state: try query.state(),
            vmId: try query.text("vmId"), draining: try query.bool("draining"))
        let limit = try query.limit()
        let records = try await store.listHosts(filter, after: query.after, limit: limit + 1)
        let page = records.prefix(limit)
        return OperatorHostPage(
            hosts: page.map(Self.host), next: records.count > limit ? page.last?.sessionHostId : nil)
    }

    func sessions(_ request: Request) async throws -> OperatorSessionPage {
        let query = try OperatorQuery(request, allowed: ["titleId", "region", "vmId", "playerId"])
        let filter = SessionFilter(
            titleId: try query.titleId(), region: try query.text("region"), vmId: try query.text("vmId"),
            playerId: try query.text("playerId"))
        let limit = try query.limit()
        let after = try query.after.map { text throws(APIError) in try SessionPageToken.decode(text) }
        let listings = try await store.listSessions(filter, after: after, limit: limit + 1)
        let page = listings.prefix(limit)
        let next = page.last.map {
            SessionPageToken.encode(SessionCursor(titleId: $0.allocation.titleId, sessionId: $0.allocation.sessionId))
        }
        return OperatorSessionPage(sessions: page.map(Self.session), next: listings.count > limit ? next : nil)
    }

    /// Title and session id of the path: a GUID is compared in lower case (as stored); any
    /// other id (a cluster session's) as it is.
    static func sessionKey(_ context: GSMSRequestContext) throws -> (String, String) {
        let sessionId = try context.parameters.require("sessionId")
        guard !sessionId.isEmpty, sessionId.utf8.count <= 1024 else {
            throw APIError.badRequest(
                code: APIError.Code(InvalidInput.Code.invalidSessionId), "sessionId must be 1 to 1024 bytes")
        }
        do {
            let titleId = try TitleRules.validatedTitleID(context.parameters.require("titleId"))
            return (titleId, (try? SessionRules.validatedSessionID(sessionId)) ?? sessionId)
        } catch let error as InvalidInput {
            throw APIError(error)
        }
    }

    static func host(_ record: HostRecord) -> OperatorHost {
        OperatorHost(
            sessionHostId: record.sessionHostId, titleId: record.registration.titleId,
            region: record.registration.region, vmId: record.vmId, hostName: record.registration.hostName,
            state: record.state, sessionId: record.sessionId,
            lastHeartbeat: DrainNotice.timestamp(record.lastHeartbeat), drain: record.drain?.notice,
            drained: record.drained, portMappings: record.registration.portMappings)
    }

    static func session(_ listing: SessionListing) -> OperatorSession {
        let allocation = listing.allocation
        return OperatorSession(
            titleId: allocation.titleId, sessionId: allocation.sessionId, state: allocation.state.rawValue,
            sessionHostId: allocation.sessionHostId, vmId: listing.vmId, region: allocation.region,
            hostName: allocation.hostName, allocatedAt: DrainNotice.timestamp(allocation.allocatedAt),
            players: listing.players)
    }
}
