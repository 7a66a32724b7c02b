/// Packets held back by a delay rule, released in order of their release time (a binary
/// min-heap; packets due at the same instant keep their arrival order). Owned by the
/// forwarder's thread alone. Bounded: `insert` refuses packets beyond `capacity`.
struct HeldPacketQueue {
    struct HeldPacket {
        var release: ContinuousClock.Instant
        var sequence: UInt64
        var destination: Int32
        var bytes: [UInt8]
    }

    let capacity: Int
    private var heap: [HeldPacket] = []
    private var nextSequence: UInt64 = 0

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { heap.count }

    /// When the earliest held packet is due.
    var nextRelease: ContinuousClock.Instant? { heap.first?.release }

    /// Holds `bytes` for `destination` until `release`; false when the queue is full.
    mutating func insert(_ bytes: [UInt8], to destination: Int32, release: ContinuousClock.Instant) -> Bool {
        guard heap.count < capacity else { return false }
        heap.append(HeldPacket(release: release, sequence: nextSequence, destination: destination, bytes: bytes))
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
        return true
    }

    /// Removes and returns the earliest packet if it is due at `now`.
    mutating func popDue(at now: ContinuousClock.Instant) -> HeldPacket? {
        guard let first = heap.first, first.release <= now else { return nil }
        let last = heap.removeLast()
        guard !heap.isEmpty else { return first }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, Self.precedes(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, Self.precedes(heap[right], heap[smallest]) { smallest = right }
            guard smallest != parent else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }

    private static func precedes(_ left: HeldPacket, _ right: HeldPacket) -> Bool {
        left.release < right.release || (left.release == right.release && left.sequence < right.sequence)
    }
}
