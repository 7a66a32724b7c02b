import Testing

@testable import AllocationService

@Suite("gsmsd's allocator settings")
struct MallocTuningTests {
    @Test("glibc takes the trim and mmap thresholds gsmsd sets at start")
    func applied() {
        #expect(MallocTuning.apply())
        #expect(MallocTuning.trimThreshold > MallocTuning.mmapThreshold)
    }
}
