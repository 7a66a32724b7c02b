import AllocationStore
import Logging
import SessionHostModel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What both the title API and the operator API do to the fleet: shut a session down, drain
/// hosts. The agents learn of either at their next exchange with gsmsd (every heartbeat answer
/// carries the host's session and drain), which the host's larger revision makes authoritative.
struct FleetOperations: Sendable {
    let store: any InventoryStore
    let notifier: ChangeNotifier
    let timings: AllocationTimings
    let logger: Logger

    /// Shuts the title's session down (`DELETE /titles/{titleId}/sessionhosts/{sessionId}`,
    /// `DELETE /operator/v1/titles/{titleId}/sessions/{sessionId}`): 404 `SessionNotFound` when
    /// the title has no such session.
    func shutdown(titleId: String, sessionId: String, by caller: String) async throws -> SessionShutdown {
        guard let host = try await store.shutdownSession(titleId: titleId, sessionId: sessionId, at: timings.now)
        else {
            throw APIError.notFound(
                code: .sessionNotFound, "title \(titleId) has no Allocating or Active session \(sessionId)")
        }
        // A caller waiting on the allocation (POST …/sessionhosts) learns that it is gone.
        await notifier.notify(.session(titleId: titleId, sessionId: sessionId))
        logger.notice(
            "session shut down",
            metadata: [
                "title_id": "\(titleId)", "session_id": "\(sessionId)", "session_host_id": "\(host.sessionHostId)",
                "by": "\(caller)",
            ])
        return SessionShutdown(titleId: titleId, sessionId: sessionId, sessionHostId: host.sessionHostId)
    }

    /// Drains what `request` names (`POST /operator/v1/drains`).
    func drain(_ request: DrainRequest) async throws -> DrainAnswer {
        let scope = try Self.scope(of: request)
        let seconds = request.deadlineSeconds ?? DrainRequest.defaultDeadlineSeconds
        guard (1...DrainRequest.maximumDeadlineSeconds).contains(seconds) else {
            throw APIError.badRequest(
                code: .invalidDrain, "deadlineSeconds must be 1 to \(DrainRequest.maximumDeadlineSeconds)")
        }
        if let reason = request.reason, reason.utf8.count > DrainNotice.maximumReasonBytes {
            throw APIError.badRequest(
                code: .invalidDrain, "reason is longer than \(DrainNotice.maximumReasonBytes) bytes")
        }
        let now = timings.now
        // Whole milliseconds, as the inventory keeps times: the answer shows what agents get.
        let deadline = Date(
            timeIntervalSince1970: ((now.timeIntervalSince1970 + Double(seconds)) * 1000).rounded(.down) / 1000)
        let drain = HostDrain(deadline: deadline, source: .operator, reason: request.reason)
        let hosts = try await store.drain(scope, drain, at: now)
        logger.notice(
            "drain requested",
            metadata: [
                "title_id": "\(scope.titleId ?? "*")", "region": "\(scope.region ?? "*")",
                "vm_id": "\(scope.vmId ?? "*")", "deadline": "\(drain.notice.deadline)", "hosts": "\(hosts)",
            ])
        return DrainAnswer(drain: drain.notice, hosts: hosts)
    }

    /// The scope a drain request names, checked: at least one member; a region needs a title.
    static func scope(of request: DrainRequest) throws(APIError) -> DrainScope {
        var scope = DrainScope()
        if let titleId = request.titleId {
            do {
                scope.titleId = try TitleRules.validatedTitleID(titleId)
            } catch {
                throw APIError(error)
            }
        }
        if let region = request.region {
            guard scope.titleId != nil || request.vmId != nil else {
                throw APIError.badRequest(code: .invalidDrain, "a region drain needs titleId too")
            }
            guard !TitleRules.locationKey(region).isEmpty, region.utf8.count <= HostRegistration.maximumValueLength
            else {
                throw APIError.badRequest(
                    code: .invalidDrain, "region must be 1 to \(HostRegistration.maximumValueLength) bytes")
            }
            scope.region = region
        }
        if let vmId = request.vmId {
            guard !vmId.isEmpty, vmId.utf8.count <= HostRegistration.maximumValueLength else {
                throw APIError.badRequest(
                    code: .invalidDrain, "vmId must be 1 to \(HostRegistration.maximumValueLength) bytes")
            }
            scope.vmId = vmId
        }
        guard scope.titleId != nil || scope.vmId != nil else {
            throw APIError.badRequest(code: .invalidDrain, "name what to drain: titleId (and region), or vmId")
        }
        return scope
    }
}
