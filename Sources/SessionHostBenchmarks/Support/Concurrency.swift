import Synchronization

/// Hands out 0, 1, 2 … to any number of tasks.
final class Ticket: Sendable {
    private let next = Atomic<Int>(0)

    /// The next number.
    func take() -> Int {
        next.wrappingAdd(1, ordering: .relaxed).oldValue
    }
}

/// A flag set once, read by many tasks.
final class DoneFlag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

/// Counts answers that were not the expected status, by status and code.
struct ErrorTally: Sendable {
    private(set) var counts: [String: ErrorCount] = [:]

    mutating func add(status: Int, code: String) {
        counts["\(status) \(code)", default: ErrorCount(status: status, code: code, count: 0)].count += 1
    }

    mutating func merge(_ other: ErrorTally) {
        for (key, value) in other.counts {
            counts[key, default: ErrorCount(status: value.status, code: value.code, count: 0)].count += value.count
        }
    }

    var total: Int { counts.values.reduce(0) { $0 + $1.count } }

    var sorted: [ErrorCount] { counts.values.sorted { $0.count != $1.count ? $0.count > $1.count : $0.code < $1.code } }
}

/// A count shared by tasks.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)

    func increment() { count.wrappingAdd(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
