#if canImport(Glibc)
import Glibc
#endif

enum Limits {
    /// Every simulated agent holds a connection: raise the soft limit of open files to the hard
    /// one (gsmsd and the agents, started afterwards, inherit it).
    static func raiseOpenFiles() throws {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            throw BenchError("getrlimit: \(String(cString: strerror(errno)))")
        }
        guard limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            throw BenchError("setrlimit: \(String(cString: strerror(errno)))")
        }
    }
}
