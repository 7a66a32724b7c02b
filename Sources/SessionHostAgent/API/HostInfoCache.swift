import SessionHostModel
import Synchronization

/// The encoded `GET /v1/host` answer, kept until the host's state, its standing with gsmsd or
/// the VM's drain changes: nothing else in it ever changes, so the busiest read of the API neither waits for
/// the agent nor encodes JSON.
final class HostInfoCache: Sendable {
    struct Key: Equatable {
        var state: HostState
        var controlPlane: ControlPlaneStanding
        var drain: DrainNotice?
    }

    private let latest = Mutex<(key: Key, body: [UInt8])?>(nil)

    /// The answer for `key`, encoded with `encode` when the key differs from the last one.
    func body(for key: Key, encode: (Key) -> [UInt8]) -> [UInt8] {
        if let cached = latest.withLock({ $0 }), cached.key == key { return cached.body }
        let body = encode(key)
        latest.withLock { $0 = (key, body) }
        return body
    }
}
