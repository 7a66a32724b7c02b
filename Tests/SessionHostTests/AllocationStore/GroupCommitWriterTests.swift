import AllocationStore
@testable import AllocationStoreSQLite
import Foundation
import GRDB
import Synchronization
import Testing

/// The embedded store's group commit: calls that wait together share one transaction, each in
/// its own savepoint, and each is answered after its transaction committed.
@Suite("GroupCommitWriter")
struct GroupCommitWriterTests {
    /// A writer on a fresh file with one table, `t(id TEXT PRIMARY KEY)`.
    static func writer(in directory: TemporaryDirectory) throws -> (GroupCommitWriter, DatabaseQueue) {
        var configuration = Configuration()
        configuration.journalMode = .wal
        let database = try DatabaseQueue(path: directory.file("writer.sqlite"), configuration: configuration)
        try database.write { db in try db.execute(sql: "CREATE TABLE t (id TEXT PRIMARY KEY) STRICT") }
        return (GroupCommitWriter(database: database), database)
    }

    /// Holds SQLite's queue inside a first call until released, so that later calls pile up.
    final class Gate: Sendable {
        private let entered = Mutex(false)
        private let semaphore = DispatchSemaphore(value: 0)
        var isEntered: Bool { entered.withLock { $0 } }
        func enterAndWait() {
            entered.withLock { $0 = true }
            semaphore.wait()
        }
        func release() { semaphore.signal() }
    }

    @Test("calls that arrive during a commit share the next transaction, and all of them are durable")
    func batching() async throws {
        let directory = try TemporaryDirectory()
        let (writer, database) = try Self.writer(in: directory)
        let gate = Gate()
        let first = Task {
            try await writer.write { db in
                gate.enterAndWait()
                try db.execute(sql: "INSERT INTO t VALUES ('first')")
            }
        }
        try await Deadline.waitUntil("the first call holds SQLite's queue") { gate.isEntered }

        let count = 40
        let rest = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<count {
                    group.addTask {
                        try await writer.write { db in
                            try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: ["\(index)"])
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        try await Deadline.waitUntil("\(count) calls wait for the next transaction") { writer.waitingCalls == count }
        gate.release()
        try await first.value
        try await rest.value

        #expect(writer.transactionsBegun == 2)
        let rows = try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") }
        #expect(rows == count + 1)
        try await writer.close()
    }

    @Test("a call that throws rolls back its own work only; the others of its batch commit")
    func savepoints() async throws {
        let directory = try TemporaryDirectory()
        let (writer, database) = try Self.writer(in: directory)
        let gate = Gate()
        let first = Task { try await writer.write { _ in gate.enterAndWait() } }
        try await Deadline.waitUntil("the first call holds SQLite's queue") { gate.isEntered }

        let failing = Task {
            try await writer.write { db in
                try db.execute(sql: "INSERT INTO t VALUES ('lost')")
                throw StoreError.unknownHost("h")
            }
        }
        try await Deadline.waitUntil("the failing call waits") { writer.waitingCalls == 1 }
        let duplicate = Task {
            try await writer.write { db in try db.execute(sql: "INSERT INTO t VALUES ('kept'), ('kept')") }
        }
        try await Deadline.waitUntil("the duplicate call waits") { writer.waitingCalls == 2 }
        let good = Task { try await writer.write { db in try db.execute(sql: "INSERT INTO t VALUES ('kept')") } }
        try await Deadline.waitUntil("the good call waits") { writer.waitingCalls == 3 }
        gate.release()
        try await first.value

        await #expect(throws: StoreError.unknownHost("h")) { try await failing.value }
        await #expect(throws: DatabaseError.self) { try await duplicate.value }
        try await good.value
        #expect(writer.transactionsBegun == 2)
        let ids = try await database.read { db in try String.fetchAll(db, sql: "SELECT id FROM t ORDER BY id") }
        #expect(ids == ["kept"])
        try await writer.close()
    }

    @Test("calls after close are refused with StoreError.unavailable")
    func closed() async throws {
        let directory = try TemporaryDirectory()
        let (writer, _) = try Self.writer(in: directory)
        try await writer.write { db in try db.execute(sql: "INSERT INTO t VALUES ('a')") }
        try await writer.close()
        let error = await #expect(throws: StoreError.self) { try await writer.write { _ in 1 } }
        #expect(error?.code == .storeUnavailable)
    }
}
