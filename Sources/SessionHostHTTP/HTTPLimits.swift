/// Limits shared by the servers and clients of `SessionHostHTTP`.
public enum HTTPLimits {
    /// The largest request body a server reads, and the default for answers a client reads: the
    /// agent's requests are small JSON documents (a session cookie is at most 4 KiB).
    public static let defaultBodyLimit = 64 * 1024
}
