#if canImport(Glibc)
import CMalloc
#endif

/// glibc's allocator, tuned for gsmsd's store thread. SQLite allocates and frees blocks of about
/// 100 KiB for each statement's temporary tables; with glibc's defaults the thread's heap gave
/// those pages back to the kernel after nearly every statement and faulted them in again, about
/// 35,000 page faults a second under the allocations benchmark (about 400 with these settings).
enum MallocTuning {
    /// Free memory at the top of a heap is kept up to this much before it is given back.
    static let trimThreshold: Int32 = 8 << 20
    /// Blocks from this size up are mapped on their own; smaller ones come from the heap.
    static let mmapThreshold: Int32 = 1 << 20

    /// Applies the settings (gsmsd does at start); false when glibc refused them.
    @discardableResult
    static func apply() -> Bool {
        #if canImport(Glibc)
        return mallopt(M_TRIM_THRESHOLD, trimThreshold) == 1 && mallopt(M_MMAP_THRESHOLD, mmapThreshold) == 1
        #else
        return true
        #endif
    }
}
