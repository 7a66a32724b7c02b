import AllocationStorePostgres
import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Carries change topics between gsmsd instances over one PostgreSQL database: `publish` sends
/// a NOTIFY on `channel` right after the change committed; `PostgresChangeListener` LISTENs
/// on its own connection and hands every other instance's topics to the local `ChangeNotifier`.
///
/// A payload is `INSTANCE␟h␟HOST` or `INSTANCE␟s␟TITLE␟SESSION` (␟ = U+001F), so an instance
/// ignores its own notifications (it has woken its waiters already).
struct PostgresChangeRelay: ChangeRelay {
    static let channel = "sessionhost_changes"
    /// PostgreSQL refuses payloads of 8000 bytes or more.
    static let maximumPayloadBytes = 7_999

    let store: PostgresInventoryStore
    let instance: String
    let logger: Logger

    init(store: PostgresInventoryStore, instance: String = UUID().uuidString, logger: Logger) {
        self.store = store
        self.instance = instance
        self.logger = logger
    }

    func publish(_ topic: ChangeTopic) async {
        let payload = Self.payload(topic, from: instance)
        guard payload.utf8.count <= Self.maximumPayloadBytes else {
            logger.warning(
                "change too long to relay; other instances see it at their next re-read",
                metadata: ["topic": "\(topic)"])
            return
        }
        do {
            try await store.notify(channel: Self.channel, payload: payload)
        } catch {
            logger.warning("cannot relay a change to the other instances", metadata: ["error": "\(error)"])
        }
    }

    /// The topic of another instance's payload; nil for this instance's own or a foreign payload.
    func topic(of payload: String) -> ChangeTopic? {
        Self.topic(of: payload, receivedBy: instance)
    }

    static func topic(of payload: String, receivedBy instance: String) -> ChangeTopic? {
        let parts = payload.split(separator: Self.separator, omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, parts[0] != instance else { return nil }
        switch (parts[1], parts.count) {
        case ("h", 3): return .host(parts[2])
        case ("s", 4): return .session(titleId: parts[2], sessionId: parts[3])
        default: return nil
        }
    }

    static func payload(_ topic: ChangeTopic, from instance: String) -> String {
        let separator = String(Self.separator)
        switch topic {
        case .host(let hostId): return [instance, "h", hostId].joined(separator: separator)
        case .session(let titleId, let sessionId):
            return [instance, "s", titleId, sessionId].joined(separator: separator)
        }
    }

    private static let separator: Character = "\u{1F}"
}
