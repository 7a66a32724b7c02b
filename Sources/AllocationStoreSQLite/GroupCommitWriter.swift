import AllocationStore
import GRDB
import Synchronization

/// Runs store calls on SQLite's own thread, many to a commit.
///
/// Each call is one closure that runs all its statements synchronously, inside a savepoint of a
/// shared `BEGIN IMMEDIATE` transaction. Calls that arrive while a commit is under way wait and
/// go into the next transaction together, so one fsync makes a whole batch durable (group
/// commit). Every caller gets its answer only after the transaction holding its work has
/// committed, so an answer is never given for work that could still be lost. A call that throws
/// rolls back its own savepoint and nothing else; a failed commit fails every call of the batch.
///
/// Calls are served in arrival order: a batch's calls see the work of the calls before them.
final class GroupCommitWriter: Sendable {
    /// Most calls in one transaction, so a flood cannot hold one commit open for long.
    static let maximumBatch = 256

    private let database: DatabaseQueue
    private let state = Mutex(State())

    private struct State {
        var pending: [Job] = []
        var draining = false
        var closed = false
        var transactions = 0
    }

    /// One call: `run` does the work inside the transaction and returns what to tell the caller
    /// once the commit's outcome is known; `fail` tells the caller the work never ran.
    private struct Job: Sendable {
        var run: @Sendable (Database) -> @Sendable (_ commitError: (any Error)?) -> Void
        var fail: @Sendable (any Error) -> Void
    }

    init(database: DatabaseQueue) {
        self.database = database
    }

    /// Calls waiting for the next transaction (tests and diagnostics).
    var waitingCalls: Int { state.withLock { $0.pending.count } }

    /// Transactions begun so far (tests and diagnostics).
    var transactionsBegun: Int { state.withLock { $0.transactions } }

    /// Runs `body` as part of the next group commit and answers after that commit.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                run: { db in
                    let outcome: Result<T, any Error>
                    do {
                        var value: T?
                        try db.inSavepoint {
                            value = try body(db)
                            return .commit
                        }
                        guard let value else { throw StoreError.unavailable("a store call produced no result") }
                        outcome = .success(value)
                    } catch {
                        outcome = .failure(error)
                    }
                    return { commitError in
                        if let commitError {
                            continuation.resume(throwing: commitError)
                        } else {
                            continuation.resume(with: outcome)
                        }
                    }
                },
                fail: { continuation.resume(throwing: $0) }
            )
            enqueue(job)
        }
    }

    /// Refuses new calls, lets the queued ones finish, then closes the database.
    func close() async throws {
        let alreadyClosed = state.withLock { state in
            defer { state.closed = true }
            return state.closed
        }
        if alreadyClosed { return }
        // The queue is serial: this runs after every drain scheduled before it.
        try await database.writeWithoutTransaction { _ in }
        try database.close()
    }

    private func enqueue(_ job: Job) {
        enum Action { case refuse, startDrain, none }
        let action: Action = state.withLock { state in
            if state.closed { return .refuse }
            state.pending.append(job)
            if state.draining { return .none }
            state.draining = true
            return .startDrain
        }
        switch action {
        case .refuse: job.fail(StoreError.unavailable("the store is closed"))
        case .startDrain: database.asyncWriteWithoutTransaction { [self] db in drain(db) }
        case .none: break
        }
    }

    /// Commits batches until no call is waiting. Runs on SQLite's serial queue.
    private func drain(_ db: Database) {
        while true {
            let batch: [Job] = state.withLock { state in
                if state.pending.isEmpty {
                    state.draining = false
                    return []
                }
                let count = min(state.pending.count, Self.maximumBatch)
                let batch = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                state.transactions += 1
                return batch
            }
            if batch.isEmpty { return }
            commit(batch, db)
        }
    }

    private func commit(_ batch: [Job], _ db: Database) {
        var answers: [@Sendable ((any Error)?) -> Void] = []
        answers.reserveCapacity(batch.count)
        do {
            try db.inTransaction(.immediate) {
                for job in batch {
                    // SQLite rolls a whole transaction back on some errors (a full disk, I/O):
                    // then nothing of this batch is in the file, and no later call may run.
                    guard db.isInsideTransaction else {
                        throw StoreError.unavailable("SQLite rolled back the transaction")
                    }
                    answers.append(job.run(db))
                }
                return .commit
            }
        } catch {
            // BEGIN or COMMIT failed: nothing of the batch is in the file.
            for answer in answers { answer(error) }
            for job in batch.dropFirst(answers.count) { job.fail(error) }
            return
        }
        for answer in answers { answer(nil) }
    }
}
