// TEMPORARY (removed when both stores implement the fleet methods): lets the tree build while
// the stores are being written.
public import FoundationEssentials

extension InventoryStore {
    public func listHosts(_ filter: HostFilter, after: String?, limit: Int) async throws -> [HostRecord] {
        throw StoreError.unavailable("listHosts is not implemented yet")
    }
    public func listSessions(_ filter: SessionFilter, after: SessionCursor?, limit: Int) async throws
        -> [SessionListing]
    { throw StoreError.unavailable("listSessions is not implemented yet") }
    public func sessionListing(titleId: String, sessionId: String) async throws -> SessionListing? {
        throw StoreError.unavailable("sessionListing is not implemented yet")
    }
    public func drain(_ scope: DrainScope, _ drain: HostDrain, at now: Date) async throws -> Int {
        throw StoreError.unavailable("drain is not implemented yet")
    }
    public func shutdownSession(titleId: String, sessionId: String, at now: Date) async throws -> HostRecord? {
        throw StoreError.unavailable("shutdownSession is not implemented yet")
    }
    public func fleetCounts() async throws -> [RegionFleetCount] {
        throw StoreError.unavailable("fleetCounts is not implemented yet")
    }
}
