package import FoundationEssentials
package import SessionHostModel
import Synchronization

// How every store keeps values: times as whole milliseconds since 1970 in an integer column,
// port mappings as a JSON array in a text column. Shared by the store implementations of this
// package, so that both give back exactly the same records.

extension Date {
    /// Whole milliseconds since 1970, as stored (rounded down; clamped far beyond any real date).
    package var storeMilliseconds: Int64 {
        let value = (timeIntervalSince1970 * 1000).rounded(.down)
        guard value.isFinite else { return value < 0 ? -Self.storeLimit : Self.storeLimit }
        return Int64(max(-Double(Self.storeLimit), min(Double(Self.storeLimit), value)))
    }

    package init(storeMilliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(storeMilliseconds) / 1000)
    }

    /// A date as the store gives it back.
    package var storeRounded: Date { Date(storeMilliseconds: storeMilliseconds) }

    private static let storeLimit: Int64 = 1 << 52
}

/// Port mappings as stored: a JSON array. A host's mappings are read back on every heartbeat and
/// rarely change, so decoded arrays are kept by their JSON text (a bounded cache).
package enum PortMappingsJSON {
    private static let decoded = Mutex<[String: [PortMapping]]>([:])
    private static let cacheLimit = 16_384

    package static func decode(_ json: String) throws -> [PortMapping] {
        if let cached = decoded.withLock({ $0[json] }) { return cached }
        let mappings = try JSONDecoder().decode([PortMapping].self, from: Data(json.utf8))
        decoded.withLock { cache in
            if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[json] = mappings
        }
        return mappings
    }

    package static func encode(_ mappings: [PortMapping]) throws -> String {
        do {
            return String(decoding: try JSONEncoder().encode(mappings), as: UTF8.self)
        } catch {
            throw StoreError.unavailable("cannot encode port mappings: \(error)")
        }
    }
}

/// The players a game last reported for its host's session, as stored: a JSON array of
/// `{"playerId": …}` objects (read by `json_each` / `jsonb_array_elements` to find a player).
package enum PlayersJSON {
    package static func decode(_ json: String) throws -> [Player] {
        try JSONDecoder().decode([Player].self, from: Data(json.utf8))
    }

    package static func encode(_ players: [Player]) throws -> String {
        do {
            return String(decoding: try JSONEncoder().encode(players), as: UTF8.self)
        } catch {
            throw StoreError.unavailable("cannot encode players: \(error)")
        }
    }
}
