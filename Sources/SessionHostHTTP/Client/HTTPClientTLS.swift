import NIOCore

/// Puts TLS on a new connection of an ``HTTP1Client``, so that `SessionHostHTTP` itself links no
/// TLS library: the agent implements it with NIOSSL; the SDK, on a Unix socket, has none.
public protocol HTTPClientTLS: Sendable {
    /// Adds the TLS client handler to a new connection's pipeline, before the HTTP codec. Called
    /// on the channel's event loop; a thrown error fails the connection attempt.
    /// - Parameter serverHostname: the name the certificate must match, `nil` for an IP address.
    func addTLSHandler(to pipeline: ChannelPipeline.SynchronousOperations, serverHostname: String?) throws
}
