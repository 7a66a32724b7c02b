#if canImport(Glibc)
import Glibc
#endif
import SessionHostModel

/// Resolves user and group names to ids, and reads the machine's host name.
enum AccountLookup {
    static func userID(_ nameOrID: String) throws(InvalidInput) -> UInt32 {
        if let id = UInt32(nameOrID) { return id }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let status = getpwnam_r(nameOrID, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else {
            throw InvalidInput(code: .unknownUser, message: "no user named '\(nameOrID)'")
        }
        return entry.pw_uid
    }

    static func groupID(_ nameOrID: String) throws(InvalidInput) -> UInt32 {
        if let id = UInt32(nameOrID) { return id }
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 65_536)
        let status = getgrnam_r(nameOrID, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else {
            throw InvalidInput(code: .unknownGroup, message: "no group named '\(nameOrID)'")
        }
        return entry.gr_gid
    }

    static func machineHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }
}
