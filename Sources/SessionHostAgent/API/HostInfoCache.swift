import SessionHostModel
import Synchronization

/// The encoded `GET /v1/host` answer, kept until the host's state changes: nothing else in it
/// ever changes, so the busiest read of the API neither waits for the agent nor encodes JSON.
final class HostInfoCache: Sendable {
    private let latest = Mutex<(state: HostState, body: [UInt8])?>(nil)

    /// The answer for `state`, encoded with `encode` when the state differs from the last one.
    func body(for state: HostState, encode: (HostState) -> [UInt8]) -> [UInt8] {
        if let cached = latest.withLock({ $0 }), cached.state == state { return cached.body }
        let body = encode(state)
        latest.withLock { $0 = (state, body) }
        return body
    }
}
