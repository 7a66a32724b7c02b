import AllocationStore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The API agents use (docs/control-plane-api.md), authenticated with the fleet secret and the
/// host's own key (`HostKeyAuthenticator`):
///
/// | method, path | what it does |
/// |---|---|
/// | `PUT /agent/v1/hosts/{id}` | register or update the host; `state` Initializing or StandingBy |
/// | `GET /agent/v1/hosts/{id}` | gsmsd's view of the host (its assignment) |
/// | `POST /agent/v1/hosts/{id}/heartbeat` | liveness, the agent's state and the game's health |
/// | `GET /agent/v1/hosts/{id}/handoff?wait=S` | held until a session is allocated to the host |
/// | `POST /agent/v1/hosts/{id}/ack` | the agent saved the hand-off: the session becomes Active |
/// | `POST /agent/v1/hosts/{id}/end` | the game finished the session: the host is released |
/// | `DELETE /agent/v1/hosts/{id}` | deregister a host without a session |
/// | `POST /agent/v1/sync` | register or heartbeat several hosts of one agent (`ControlPlaneAPI+Sync`) |
/// | `POST /agent/v1/handoffs` | one held poll for several hosts of one agent (`ControlPlaneAPI+Channel`) |
///
/// The per-host `PUT` and heartbeat, and `/agent/v1/sync`, run the same code
/// (`register(hostId:_:)`, `recordHeartbeat(hostId:_:)`) on the decoded body.
struct ControlPlaneAPI: Sendable {
    let store: any InventoryStore
    let notifier: ChangeNotifier
    let clusters: ClusterQueue
    let fleet: BearerSecretAuthenticator
    let hostKeys: HostKeyAuthenticator
    let channels: HandoffChannels
    let subscribedTitles: Set<String>
    let timings: AllocationTimings
    let logger: Logger
    let metrics: GSMSMetrics
    /// Logs the refusals of single hosts inside `/agent/v1/sync` and `/agent/v1/handoffs`, as
    /// `APIResponseMiddleware` logs the refusals of whole requests.
    let refusals: RefusalLog

    init(
        store: any InventoryStore, notifier: ChangeNotifier, clusters: ClusterQueue, fleet: BearerSecretAuthenticator,
        hostKeys: HostKeyAuthenticator, channels: HandoffChannels, subscribedTitles: Set<String>,
        timings: AllocationTimings, logger: Logger, metrics: GSMSMetrics
    ) {
        self.store = store
        self.notifier = notifier
        self.clusters = clusters
        self.fleet = fleet
        self.hostKeys = hostKeys
        self.channels = channels
        self.subscribedTitles = subscribedTitles
        self.timings = timings
        self.logger = logger
        self.metrics = metrics
        self.refusals = RefusalLog(logger: logger, metrics: metrics)
    }

    /// The longest hand-off wait an agent may ask for.
    static let maximumWaitSeconds = 300.0

    func register(on router: Router<GSMSRequestContext>) {
        let host = "agent/v1/hosts/:hostId"
        router.put(RouterPath(host)) { request, context in
            let hostId = try await authenticated(request, context)
            let registration = try await JSONBody.decode(HostRegistration.self, from: request)
            return try JSONBody.response(try await register(hostId: hostId, registration))
        }
        router.get(RouterPath(host)) { request, context in
            try await status(of: await authenticated(request, context))
        }
        router.delete(RouterPath(host)) { request, context in
            try await deregister(hostId: await authenticated(request, context))
        }
        router.post(RouterPath(host + "/heartbeat")) { request, context in
            let hostId = try await authenticated(request, context)
            let heartbeat = try await JSONBody.decode(HostHeartbeat.self, from: request)
            return try JSONBody.response(try await recordHeartbeat(hostId: hostId, heartbeat))
        }
        router.get(RouterPath(host + "/handoff")) { request, context in
            try await waitForHandoff(
                request, hostId: await authenticated(request, context), connection: context.channel)
        }
        router.post(RouterPath(host + "/ack")) { request, context in
            try await acknowledge(request, hostId: await authenticated(request, context))
        }
        router.post(RouterPath(host + "/end")) { request, context in
            try await endSession(request, hostId: await authenticated(request, context))
        }
        MethodNotAllowed.register(on: router, path: RouterPath(host), allowed: [.get, .put, .delete])
        for (suffix, method) in [
            ("/heartbeat", HTTPRequest.Method.post), ("/handoff", .get), ("/ack", .post), ("/end", .post),
        ] {
            MethodNotAllowed.register(on: router, path: RouterPath(host + suffix), allowed: [method])
        }
        registerAgentChannel(on: router)
    }

    /// Checks the fleet secret, the host id and the host's key; returns the host id.
    private func authenticated<Context: RequestContext>(_ request: Request, _ context: Context) async throws -> String {
        try fleet.authenticate(request)
        let hostId = try context.parameters.require("hostId")
        try Self.checkHostId(hostId)
        try await hostKeys.authenticate(request, hostId: hostId, registering: request.method == .put)
        return hostId
    }

    /// Throws 400 `InvalidHostId` unless `hostId` is 1 to 128 visible ASCII characters without '/'.
    static func checkHostId(_ hostId: String) throws(APIError) {
        guard !hostId.isEmpty, hostId.utf8.count <= 128,
            hostId.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F && $0 != "/" })
        else {
            throw APIError.badRequest(
                code: .invalidHostId, "the session host id must be 1 to 128 visible ASCII characters without '/'")
        }
    }

    /// Registers the host or updates its description (`PUT /agent/v1/hosts/{id}`, and a
    /// `registration` of `/agent/v1/sync`); the host key is checked (and bound) already.
    func register(hostId: String, _ registration: HostRegistration) async throws -> HostStatus {
        do {
            try registration.validate()
        } catch {
            throw APIError(error)
        }
        guard subscribedTitles.contains(registration.titleId) else {
            throw APIError.notFound(
                code: .titleNotSubscribed, "title \(registration.titleId) has no subscription on this service")
        }
        let record = try await store.registerHost(id: hostId, registration, at: timings.now)
        logger.info(
            "session host registered",
            metadata: [
                "session_host_id": "\(hostId)", "title_id": "\(registration.titleId)",
                "region": "\(registration.region)",
                "state": "\(record.state.rawValue)",
            ])
        await hostMayBeStandingBy(record)
        // A held poll of the host's agent (sent while it registered) counts its channel now.
        await notifier.notify(.host(hostId))
        return try await status(record)
    }

    /// Records a heartbeat (`POST /agent/v1/hosts/{id}/heartbeat`, and a `heartbeat` of
    /// `/agent/v1/sync`); the host key is checked already.
    func recordHeartbeat(hostId: String, _ heartbeat: HostHeartbeat) async throws -> HostStatus {
        do {
            try heartbeat.validate()
        } catch {
            throw APIError(error)
        }
        let record = try await store.recordHeartbeat(id: hostId, heartbeat, at: timings.now)
        metrics.heartbeatReceived(titleId: record.registration.titleId)
        await hostMayBeStandingBy(record)
        return try await status(record)
    }

    func status(of hostId: String) async throws -> Response {
        guard let assignment = try await store.assignment(hostId: hostId) else { throw Self.unknownHost(hostId) }
        return try JSONBody.response(status(assignment.host, session: assignment.session))
    }

    func deregister(hostId: String) async throws -> Response {
        let removed = try await store.deregisterHost(id: hostId)
        hostKeys.forget(hostId: hostId)
        channels.forget(hostId: hostId)
        if removed { logger.info("session host deregistered", metadata: ["session_host_id": "\(hostId)"]) }
        return try JSONBody.response(Deregistration(sessionHostId: hostId, deregistered: removed))
    }

    /// The held hand-off poll: the agent's channel (see `HandoffChannels`). Its connection gets
    /// keepalive probes; the poll ends at once when the connection dies.
    func waitForHandoff(_ request: Request, hostId: String, connection: any Channel) async throws -> Response {
        let waitText = request.uri.queryParameters.get("wait") ?? "30"
        guard let wait = Double(waitText), wait.isFinite, wait >= 0, wait <= Self.maximumWaitSeconds else {
            throw APIError.badRequest(code: .invalidWait, "wait must be 0 to \(Int(Self.maximumWaitSeconds)) seconds")
        }
        guard try await store.host(id: hostId) != nil else { throw Self.unknownHost(hostId) }
        let store = self.store
        let notifier = self.notifier
        let deadline = timings.clock.instant(in: .milliseconds(Int64(wait * 1000)))
        channels.pollStarted(hostId: hostId)
        var outcome = HandoffChannels.PollOutcome.connectionLost
        defer {
            channels.pollEnded(hostId: hostId, outcome: outcome)
        }
        // Held requests end early (empty) when gsmsd shuts down, so that it stops at once.
        let (pending, closed) = try await HandoffConnection.run(on: connection) { stop in
            try await notifier.waitForValue(
                of: [.host(hostId)], until: deadline, stop: stop, endingAtGracefulShutdown: true
            ) { () async throws -> Handoff? in
                try await store.pendingHandoff(hostId: hostId).map {
                    Self.handoff($0.allocation, revision: $0.hostRevision)
                }
            }
        }
        if !closed { outcome = pending != nil ? .handedOff : wait >= 1 ? .answeredEmpty : .looked }
        return try JSONBody.response(HandoffPoll(handoff: pending))
    }

    func acknowledge(_ request: Request, hostId: String) async throws -> Response {
        let reference = try await JSONBody.decode(HostSessionReference.self, from: request)
        guard
            let confirmed = try await store.confirmHandoff(
                hostId: hostId, sessionId: reference.sessionId, at: timings.now),
            let allocation = confirmed.session
        else {
            throw APIError.conflict(
                code: .handoffExpired,
                "session \(reference.sessionId) is not waiting for this host's acknowledgement (it timed out or moved on); drop it"
            )
        }
        await notifier.notify(.session(titleId: allocation.titleId, sessionId: allocation.sessionId))
        return try JSONBody.response(status(confirmed.host, session: allocation))
    }

    func endSession(_ request: Request, hostId: String) async throws -> Response {
        let reference = try await JSONBody.decode(HostSessionReference.self, from: request)
        let record = try await store.endSession(hostId: hostId, sessionId: reference.sessionId, at: timings.now)
        await notifier.notify(.session(titleId: record.registration.titleId, sessionId: reference.sessionId))
        logger.info(
            "session ended",
            metadata: [
                "session_host_id": "\(hostId)", "session_id": "\(reference.sessionId)",
                "title_id": "\(record.registration.titleId)",
            ])
        return try JSONBody.response(try await status(record))
    }

    /// A host that became StandingBy may serve its title's queue.
    private func hostMayBeStandingBy(_ record: HostRecord) async {
        if record.state == .standingBy {
            await clusters.hostBecameStandingBy(titleId: record.registration.titleId)
        }
    }

    /// The agent's view of `record`; reads its session from the store when it holds one. When
    /// the session moved on meanwhile, host and session are read again together, so that an
    /// answer never pairs a revision with a session of another revision.
    private func status(_ record: HostRecord) async throws -> HostStatus {
        guard let sessionId = record.sessionId else { return status(record, session: nil) }
        let session = try await store.allocation(titleId: record.registration.titleId, sessionId: sessionId)
        if let session, session.sessionHostId == record.sessionHostId { return status(record, session: session) }
        guard let assignment = try await store.assignment(hostId: record.sessionHostId) else {
            throw Self.unknownHost(record.sessionHostId)
        }
        return status(assignment.host, session: assignment.session)
    }

    private func status(_ record: HostRecord, session: Allocation?) -> HostStatus {
        var status = HostStatus(
            sessionHostId: record.sessionHostId, titleId: record.registration.titleId, state: record.state,
            heartbeatIntervalMilliseconds: timings.heartbeatInterval.milliseconds, revision: record.revision,
            drain: record.drain?.notice)
        if let session {
            status.sessionId = session.sessionId
            status.sessionCookie = session.sessionCookie
            status.allocatedAt = Self.timestamp(session.allocatedAt)
        }
        return status
    }

    /// `allocation` as the hand-off its host's agent receives; `revision` is the host's.
    static func handoff(_ allocation: Allocation, revision: Int64) -> Handoff {
        Handoff(
            sessionHostId: allocation.sessionHostId, titleId: allocation.titleId, sessionId: allocation.sessionId,
            sessionCookie: allocation.sessionCookie, allocatedAt: timestamp(allocation.allocatedAt),
            acknowledgeBy: timestamp(allocation.acknowledgeBy), revision: revision)
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func unknownHost(_ hostId: String) -> APIError {
        APIError.notFound(code: .unknownHost, "session host \(hostId) is not registered; register it with PUT first")
    }
}
