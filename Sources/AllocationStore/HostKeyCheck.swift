/// What the inventory says of the key an agent presented for a host (`InventoryStore.checkHostKey`).
///
/// A host id is bound to the first key presented for it: from then on only that key acts for the
/// host, so an agent holding the fleet secret cannot act for another host. The binding ends when
/// the host deregisters.
public enum HostKeyCheck: String, Sendable, Equatable {
    /// No key was bound for the host; the presented one is now.
    case bound
    /// The presented key is the host's.
    case matched
    /// The host is bound to another key.
    case mismatched
    /// No key is bound and none was bound now (the host is not registered and binding was not asked).
    case absent

    /// Whether the caller may act for the host.
    public var admits: Bool { self == .bound || self == .matched || self == .absent }
}
