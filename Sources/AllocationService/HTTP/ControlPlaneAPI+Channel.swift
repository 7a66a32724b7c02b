import AllocationStore
import Hummingbird
import NIOCore
import ServiceLifecycle
import SessionHostModel
import Synchronization

/// `POST /agent/v1/handoffs`: one held poll for the hand-offs of all of an agent's hosts (its
/// slots), the agent's one channel (docs/control-plane-api.md), held like the per-host
/// `GET …/handoff` (`waitForHandoff`): keepalive probes on its connection, ended at once when the
/// connection closes, ended early (empty) on graceful shutdown.
///
/// Which hosts the poll watches:
/// - a host bound to the request's key, or to no key (not registered yet: its registration and a
///   claim later wake the poll) is watched;
/// - a host bound to another key is left out (its hand-offs belong to another agent), and its
///   refusal is logged; when every host named is bound to another key, the answer is 403
///   `HostKeyMismatch`;
/// - a hand-off is answered only after its host's key was checked again, so a host registered by
///   another agent while the poll was held is never handed to this one;
/// - the hand-offs of `receivedSessionIds` (which the agent is acknowledging) are not answered
///   again: the poll stays held for the others.
///
/// `HandoffChannels` counts the hosts registered when the poll arrived, and those that register
/// while it is held: each one's channel is up while the poll is held; when it ends, a host handed a session is `.handedOff`, the others
/// `.looked` (the agent polls again at once), all `.answeredEmpty` when the wait ran out (or a
/// look under a second: `.looked`), all `.connectionLost` when the connection closed first.
extension ControlPlaneAPI {
    func waitForHandoffs(_ request: Request, connection: any Channel) async throws -> Response {
        try fleet.authenticate(request)
        let digest = try HostKeyAuthenticator.digest(of: request)
        let poll = try await JSONBody.decode(HandoffsPollRequest.self, from: request)
        try Self.checkHostList(poll.sessionHostIds)
        let wait = poll.wait ?? 30
        guard wait.isFinite, wait >= 0, wait <= Self.maximumWaitSeconds else {
            throw APIError.badRequest(code: .invalidWait, "wait must be 0 to \(Int(Self.maximumWaitSeconds)) seconds")
        }
        let correlationId = APIResponseMiddleware<GSMSRequestContext>.correlationId(from: request)
        var watched: [String] = []
        var registered: [String] = []
        var refusal: APIError?
        for hostId in poll.sessionHostIds {
            do {
                try await hostKeys.authenticate(digest: digest, hostId: hostId, registering: false)
            } catch let error as APIError where error.code == .hostKeyMismatch {
                hostRefused(error, hostId: hostId, path: "/agent/v1/handoffs", correlationId: correlationId)
                refusal = refusal ?? error
                continue
            }
            watched.append(hostId)
            if try await store.host(id: hostId) != nil { registered.append(hostId) }
        }
        if watched.isEmpty, let refusal { throw refusal }

        let hostIds = watched
        let received = Set(poll.receivedSessionIds ?? [])
        let notifier = self.notifier
        let store = self.store
        let channels = self.channels
        let deadline = timings.clock.instant(in: .milliseconds(Int64(wait * 1000)))
        // The hosts whose channel this poll holds up: those registered when it arrived, and
        // those that register while it is held (a registration wakes it), so that an agent's
        // first poll, sent while its slots register, counts them at once.
        let counted = Mutex(registered)
        channels.pollStarted(hostIds: registered)
        var closed = true
        var handoffs: [Handoff] = []
        defer {
            let handedOff = Set(handoffs.map(\.sessionHostId))
            let others: HandoffChannels.PollOutcome = !handoffs.isEmpty || wait < 1 ? .looked : .answeredEmpty
            channels.pollEnded(
                counted.withLock { $0 }.map { hostId in
                    (hostId, closed ? .connectionLost : handedOff.contains(hostId) ? .handedOff : others)
                })
        }
        // Held requests end early (empty) when gsmsd shuts down, so that it stops at once.
        let (pending, connectionClosed) = try await HandoffConnection.run(on: connection) { stop in
            try await notifier.waitForValue(
                of: hostIds.map { .host($0) }, until: deadline, stop: stop, endingAtGracefulShutdown: true
            ) { () async throws -> [Handoff]? in
                let known = Set(counted.withLock { $0 })
                var joined: [String] = []
                for hostId in hostIds where !known.contains(hostId) {
                    if try await store.host(id: hostId) != nil { joined.append(hostId) }
                }
                if !joined.isEmpty {
                    counted.withLock { $0 += joined }
                    channels.pollStarted(hostIds: joined)
                }
                let handoffs = try await pendingHandoffs(of: hostIds, digest: digest, except: received)
                return handoffs.isEmpty ? nil : handoffs
            }
        }
        closed = connectionClosed
        handoffs = pending ?? []
        return try JSONBody.response(HandoffsPoll(handoffs: handoffs))
    }

    /// The hand-offs waiting for any of `hostIds`, in their order, but those of the sessions the
    /// agent said it `received` already, each of a host still bound to the key whose `digest` is
    /// given (or to none).
    private func pendingHandoffs(
        of hostIds: [String], digest: String, except received: Set<String>
    ) async throws -> [Handoff] {
        var handoffs: [Handoff] = []
        for hostId in hostIds {
            guard let pending = try await store.pendingHandoff(hostId: hostId),
                !received.contains(pending.allocation.sessionId)
            else { continue }
            do {
                try await hostKeys.authenticate(digest: digest, hostId: hostId, registering: false)
            } catch let error as APIError where error.code == .hostKeyMismatch {
                continue // registered by another agent meanwhile: its hand-off is not ours
            }
            handoffs.append(Self.handoff(pending.allocation, revision: pending.hostRevision))
        }
        return handoffs
    }
}
