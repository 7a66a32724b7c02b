import GRDB

/// `hosts.vm_busy` (schema version 6): how many hosts of each host's VM hold a session, which
/// orders the packed strategy's index. Every statement that gives a host a session or takes it
/// away, or registers a host, is followed by `recountVM` in the same transaction, so the count
/// is exact whenever a transaction commits.
extension SQLiteInventoryStore {
    /// Writes the count of busy hosts to every host of the VM the statement's end selects.
    private static let recount = """
        UPDATE hosts SET vm_busy = (SELECT COUNT(*) FROM hosts AS busy
            WHERE busy.vm_id = hosts.vm_id AND busy.session_id IS NOT NULL)
        WHERE vm_id = 
        """

    /// Recounts the VM of `hostId` (nothing when there is no such host).
    static func recountVM(_ db: Database, ofHost hostId: String) throws {
        try db.run(recount + "(SELECT vm_id FROM hosts WHERE host_id = ?)", [hostId])
    }

    /// Recounts the VM `vmId` (a VM a host moved away from).
    static func recountVM(_ db: Database, vmId: String) throws {
        try db.run(recount + "?", [vmId])
    }
}
