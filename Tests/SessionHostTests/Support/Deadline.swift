/// Waits for a condition that no event announces (a child's exit, a file appearing), checking
/// often and failing at a deadline, never blocking a thread of the shared pool.
enum Deadline {
    static func waitUntil(
        _ description: @autoclosure () -> String,
        timeout: Duration = .seconds(30),
        _ condition: () throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while try !condition() {
            guard ContinuousClock.now < deadline else {
                throw TestFailure("\(description()) did not happen within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Like `waitUntil`, for a condition that must be asked over the network; checks every 50 ms.
    static func waitUntilAsync(
        _ description: @autoclosure () -> String,
        timeout: Duration = .seconds(30),
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                throw TestFailure("\(description()) did not happen within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

extension Deadline {
    /// Runs `operation`, failing when it has not finished within `timeout` (it is cancelled then).
    static func within<T: Sendable>(
        _ timeout: Duration, _ description: @autoclosure () -> String,
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let outcome = try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let outcome else { throw TestFailure("\(description()) did not finish within \(timeout)") }
        return outcome
    }
}
