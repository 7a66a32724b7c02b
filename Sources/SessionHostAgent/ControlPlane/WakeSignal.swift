/// A nudge from one loop of the agent to another ("heartbeat now"): `fire` wakes every `wait`
/// in progress and any later `wait(since:)` that has not seen it.
actor WakeSignal {
    private var generation: UInt64 = 0
    private var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter: UInt64 = 0

    /// How many times it fired; read it before looking, then wait since that count.
    var count: UInt64 { generation }

    func fire() {
        generation += 1
        for continuation in waiters.values { continuation.resume() }
        waiters.removeAll()
    }

    /// Returns once the signal fired after `seen`, or the task is cancelled.
    func wait(since seen: UInt64) async {
        guard generation <= seen, !Task.isCancelled else { return }
        nextWaiter += 1
        let id = nextWaiter
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                if generation > seen || Task.isCancelled {
                    continuation.resume()
                } else {
                    waiters[id] = continuation
                }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    private func cancel(_ id: UInt64) {
        waiters.removeValue(forKey: id)?.resume()
    }
}
