import AllocationStore
import HTTPTypes
import Hummingbird
import Logging
import SessionHostModel

/// The public REST API of SPEC §2: `POST /titles/{titleId}/sessionhosts`,
/// `GET /titles/{titleId}/sessionhosts/{sessionId}` and `POST /titles/{titleId}/clusters`; and
/// our extensions `DELETE /titles/{titleId}/sessionhosts/{sessionId}` (shut the session down) and
/// `GET /titles/{titleId}/sessionhosts/{sessionId}/players` (who plays).
///
/// Every request is checked in this order: credential (401), title id (400), the token covers
/// the title (403), the title has a subscription (404), then headers and body (400).
struct TitleAPI: Sendable {
    let store: any InventoryStore
    let allocator: Allocator
    let clusters: ClusterQueue
    let operations: FleetOperations
    let credentials: any TitleCredentialVerifier
    let subscribedTitles: Set<String>
    let logger: Logger
    let metrics: GSMSMetrics

    /// `Retry-After` of a 503 when no host is StandingBy.
    static let retryAfterSeconds = 1

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.post("titles/:titleId/sessionhosts") { request, context in
            let titleId = try context.parameters.require("titleId")
            let started = ContinuousClock.now
            do {
                let response = try await allocateSessionHost(request, titleId: titleId)
                metrics.allocationAnswered(
                    titleId: titleId, status: response.status.code, duration: ContinuousClock.now - started)
                return response
            } catch {
                let status = APIResponseMiddleware<Context>.status(for: error)
                metrics.allocationAnswered(titleId: titleId, status: status, duration: ContinuousClock.now - started)
                throw error
            }
        }
        router.get("titles/:titleId/sessionhosts/:sessionId") { request, context in
            try await lookUpSessionHost(
                request, titleId: context.parameters.require("titleId"),
                sessionId: context.parameters.require("sessionId"))
        }
        router.get("titles/:titleId/sessionhosts/:sessionId/players") { request, context in
            try await lookUpPlayers(
                request, titleId: context.parameters.require("titleId"),
                sessionId: context.parameters.require("sessionId"))
        }
        router.delete("titles/:titleId/sessionhosts/:sessionId") { request, context in
            try await shutDownSession(
                request, titleId: context.parameters.require("titleId"),
                sessionId: context.parameters.require("sessionId"))
        }
        router.post("titles/:titleId/clusters") { request, context in
            let titleId = try context.parameters.require("titleId")
            do {
                let (response, state) = try await requestCluster(request, titleId: titleId)
                metrics.clusterRequestAnswered(titleId: titleId, result: state.rawValue)
                return response
            } catch {
                metrics.clusterRequestAnswered(
                    titleId: titleId, result: String(APIResponseMiddleware<Context>.status(for: error)))
                throw error
            }
        }
        MethodNotAllowed.register(on: router, path: "titles/:titleId/sessionhosts", allowed: [.post])
        MethodNotAllowed.register(
            on: router, path: "titles/:titleId/sessionhosts/:sessionId", allowed: [.get, .delete])
        MethodNotAllowed.register(on: router, path: "titles/:titleId/sessionhosts/:sessionId/players", allowed: [.get])
        MethodNotAllowed.register(on: router, path: "titles/:titleId/clusters", allowed: [.post])
    }

    func allocateSessionHost(_ request: Request, titleId: String) async throws -> Response {
        let titleId = try await admit(request, titleId: titleId)
        let body: SessionHostAllocationRequest
        do {
            body = try await JSONBody.decode(SessionHostAllocationRequest.self, from: request).validated()
        } catch let error as InvalidInput {
            throw APIError(error)
        }
        let criteria = HostCriteria(
            sandboxId: body.sandboxId, cloudGameId: body.cloudGameId, gameModeId: body.gameModeId,
            locations: body.locations ?? [])
        let result = try await allocator.allocate(
            titleId: titleId, sessionId: body.sessionId, kind: .sessionHost, criteria: criteria,
            sessionCookie: body.sessionCookie)
        switch result {
        case .allocated(let allocation):
            logger.info(
                "session host allocated",
                metadata: [
                    "title_id": "\(titleId)", "session_id": "\(allocation.sessionId)",
                    "session_host_id": "\(allocation.sessionHostId)", "region": "\(allocation.region)",
                ])
            return try JSONBody.response(allocation.publicBody)
        case .inFlight:
            throw APIError.conflict(
                code: .allocationInProgress,
                "session \(body.sessionId) is being allocated right now by another request, which will get the answer; do not retry: look it up with GET /titles/\(titleId)/sessionhosts/\(body.sessionId) once that request is done"
            )
        case .noHost:
            throw APIError.noHost(retryAfterSeconds: Self.retryAfterSeconds)
        }
    }

    func lookUpSessionHost(_ request: Request, titleId: String, sessionId: String) async throws -> Response {
        let titleId = try await admit(request, titleId: titleId)
        let key = try Self.sessionKey(sessionId)
        guard let allocation = try await store.allocation(titleId: titleId, sessionId: key), allocation.state == .active
        else {
            throw APIError.notFound(code: .sessionNotFound, "title \(titleId) has no Active session \(key)")
        }
        return try JSONBody.response(allocation.publicBody)
    }

    /// Our extension: the players of the title's Active session, as its game last reported them.
    func lookUpPlayers(_ request: Request, titleId: String, sessionId: String) async throws -> Response {
        let titleId = try await admit(request, titleId: titleId)
        let key = try Self.sessionKey(sessionId)
        guard let listing = try await store.sessionListing(titleId: titleId, sessionId: key),
            listing.allocation.state == .active
        else {
            throw APIError.notFound(code: .sessionNotFound, "title \(titleId) has no Active session \(key)")
        }
        return try JSONBody.response(
            SessionPlayers(
                sessionId: key, sessionHostId: listing.allocation.sessionHostId, players: listing.players ?? []))
    }

    /// Our extension: the title shuts its session down (Allocating or Active). The game is told
    /// through its agent; the host is released once the game is ready again.
    func shutDownSession(_ request: Request, titleId: String, sessionId: String) async throws -> Response {
        let titleId = try await admit(request, titleId: titleId)
        let key = try Self.sessionKey(sessionId)
        return try JSONBody.response(try await operations.shutdown(titleId: titleId, sessionId: key, by: "title"))
    }

    /// The answer, and its fulfilment state (for the metrics).
    func requestCluster(_ request: Request, titleId: String) async throws -> (Response, FulfillmentState) {
        let titleId = try await admit(request, titleId: titleId)
        let contractVersion = request.headers[HTTPField.Name("x-xbl-contract-version")!]
        guard contractVersion?.split(separator: " ", omittingEmptySubsequences: true) == ["1"] else {
            throw APIError.badRequest(
                code: .unsupportedContractVersion,
                "POST /titles/{titleId}/clusters requires the header 'x-xbl-contract-version: 1'")
        }
        let body: ClusterRequest
        do {
            body = try await JSONBody.decode(ClusterRequest.self, from: request).validated()
        } catch let error as InvalidInput {
            throw APIError(error)
        }
        let answer = try await clusters.request(titleId: titleId, body)
        return (try JSONBody.response(answer), answer.fulfillmentState)
    }

    /// The session id of a `/sessionhosts/{sessionId}` path: a GUID, in lower case (400 otherwise).
    static func sessionKey(_ sessionId: String) throws(APIError) -> String {
        do {
            return try SessionRules.validatedSessionID(sessionId)
        } catch {
            throw APIError(error)
        }
    }

    /// Authentication, title id, authorization and subscription, in that order.
    private func admit(_ request: Request, titleId path: String) async throws -> String {
        let titles = try await credentials.titles(authorization: request.headers[.authorization])
        let titleId: String
        do {
            titleId = try TitleRules.validatedTitleID(path)
        } catch {
            throw APIError(error)
        }
        guard titles.contains(titleId) else {
            throw APIError(.forbidden, code: .titleNotAllowed, "the token does not cover title \(titleId)")
        }
        guard subscribedTitles.contains(titleId) else {
            throw APIError.notFound(code: .titleNotSubscribed, "title \(titleId) has no subscription on this service")
        }
        return titleId
    }
}

/// Answers 405 with `Allow` for the methods a path does not serve.
enum MethodNotAllowed {
    static let commonMethods: [HTTPRequest.Method] = [.get, .post, .put, .delete, .patch]

    static func register<Context: RequestContext>(
        on router: Router<Context>, path: RouterPath, allowed: [HTTPRequest.Method]
    ) {
        for method in commonMethods where !allowed.contains(method) {
            router.on(
                path, method: method,
                use: { @Sendable _, _ -> Response in
                    throw APIError.methodNotAllowed(allowed)
                })
        }
    }
}
