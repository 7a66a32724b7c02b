import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Writes structured entries to the systemd journal through its native protocol
/// (`sd_journal_sendv(3)`), and tells whether this process's stderr is connected to the journal.
public enum SystemdJournal {
    /// Sends one entry made of `fields`, each `NAME=value` with a name of upper-case letters,
    /// digits and underscores (values may hold any bytes, new lines included). Returns 0, or a
    /// negative errno when the journal could not be written (no journald, say).
    public static func send(_ fields: [[UInt8]]) -> Int32 {
        guard !fields.isEmpty else { return 0 }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(0) { $0 + $1.count })
        for field in fields { bytes.append(contentsOf: field) }
        return bytes.withUnsafeMutableBytes { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -EINVAL }
            var vectors: [iovec] = []
            vectors.reserveCapacity(fields.count)
            var offset = 0
            for field in fields {
                vectors.append(iovec(iov_base: base + offset, iov_len: field.count))
                offset += field.count
            }
            return sd_journal_sendv(vectors, Int32(vectors.count))
        }
    }

    /// Whether stderr is the journal: systemd sets `JOURNAL_STREAM` to the device and inode
    /// numbers (`DEVICE:INODE`, decimal) of the stream it connected to stdout/stderr, and those
    /// still match `fstat(2)` of stderr, so that a stderr redirected elsewhere by a child of
    /// the service does not count (see systemd.exec(5), `$JOURNAL_STREAM`).
    public static func stderrIsJournal(environment value: String?) -> Bool {
        guard let (device, inode) = parseJournalStream(value) else { return false }
        var status = stat()
        guard fstat(STDERR_FILENO, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }

    /// The device and inode numbers of `JOURNAL_STREAM` (`DEVICE:INODE`), or nil when it is
    /// missing or malformed.
    public static func parseJournalStream(_ value: String?) -> (device: UInt64, inode: UInt64)? {
        guard let value else { return nil }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return nil }
        return (device, inode)
    }
}
