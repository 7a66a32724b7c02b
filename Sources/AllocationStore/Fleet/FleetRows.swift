import SessionHostModel

// The rows of the fleet reads, shared by the stores so that both give back the same values.

extension SessionListing {
    /// The select list `init(_:)` reads, from `sessions s JOIN hosts h ON h.host_id = s.host_id`:
    /// the session's columns under their own names, the host's VM and players.
    package static let columns =
        SessionRow.columns.split(separator: ",").map { column in
            let name = column.filter { !$0.isWhitespace }
            return "s.\(name) AS \(name)"
        }.joined(separator: ", ") + ", h.vm_id AS host_vm_id, h.players AS host_players"

    package init(_ c: some StoreColumns) throws {
        self.init(
            allocation: try SessionRow(c).allocation, vmId: try c.text("host_vm_id"),
            players: try c.optionalPlayers("host_players"))
    }
}

extension RegionFleetCount {
    /// The column of each state's count of hosts not draining in `statement`.
    private static let stateColumns: [(HostState, String)] = HostState.allCases.map { state in
        (state, "not_draining_" + state.rawValue.lowercased())
    }

    /// The one statement `init(_:)` reads, the same SQL on every store (no arguments): hosts
    /// grouped per VM first, then per title and region key, so that VMs are counted and the
    /// largest found in one pass. Sums are cast to BIGINT (PostgreSQL sums BIGINTs as NUMERIC).
    package static let statement: String = {
        let perState = stateColumns.map { state, column in
            "SUM(CASE WHEN drain_deadline_ms IS NULL AND state = '\(state.rawValue)' THEN 1 ELSE 0 END) AS \(column)"
        }
        let totals = stateColumns.map { _, column in "CAST(SUM(\(column)) AS BIGINT) AS \(column)" }
        return """
            SELECT title_id, MIN(region) AS region, \(totals.joined(separator: ", ")),
                CAST(SUM(draining_hosts) AS BIGINT) AS draining_hosts,
                CAST(SUM(CASE WHEN vm_hosts > draining_hosts THEN 1 ELSE 0 END) AS BIGINT) AS vms,
                CAST(SUM(CASE WHEN draining_hosts > 0 THEN 1 ELSE 0 END) AS BIGINT) AS draining_vms,
                CAST(MAX(vm_hosts) AS BIGINT) AS largest_vm
            FROM (
                SELECT title_id, region_key, vm_id, MIN(region) AS region, COUNT(*) AS vm_hosts,
                    SUM(CASE WHEN drain_deadline_ms IS NULL THEN 0 ELSE 1 END) AS draining_hosts,
                    \(perState.joined(separator: ", "))
                FROM hosts GROUP BY title_id, region_key, vm_id
            ) AS per_vm
            GROUP BY title_id, region_key ORDER BY title_id, region_key
            """
    }()

    package init(_ c: some StoreColumns) throws {
        var hosts: [HostState: Int] = [:]
        for (state, column) in Self.stateColumns {
            let count = Int(try c.int(column))
            if count > 0 { hosts[state] = count }
        }
        self.init(
            titleId: try c.text("title_id"), region: try c.text("region"), hosts: hosts,
            drainingHosts: Int(try c.int("draining_hosts")), vms: Int(try c.int("vms")),
            drainingVMs: Int(try c.int("draining_vms")), largestVM: Int(try c.int("largest_vm")))
    }
}

extension HostDrain {
    /// The one of two drains with the earlier deadline (the first when they are equal); nil
    /// when both are.
    package static func earliest(_ first: HostDrain?, _ second: HostDrain?) -> HostDrain? {
        guard let first else { return second }
        guard let second else { return first }
        return second.deadline < first.deadline ? second : first
    }
}

extension DrainScope {
    /// The scope's region as stored and matched (`TitleRules.locationKey`).
    package var regionKey: String? { region.map(TitleRules.locationKey) }
}
