import NIOCore
import NIOSSL
import SessionHostHTTP
import Synchronization

/// TLS for an `https://` control plane, checked against the system's trust roots: the hook
/// through which `SessionHostHTTP`'s client speaks TLS without linking NIOSSL itself.
final class ControlPlaneTLS: HTTPClientTLS {
    /// Made at the first connection (it reads the system's trust roots), then shared.
    private let context = Mutex<NIOSSLContext?>(nil)

    func addTLSHandler(to pipeline: ChannelPipeline.SynchronousOperations, serverHostname: String?) throws {
        let context = try self.context.withLock { cached in
            if let cached { return cached }
            let made = try NIOSSLContext(configuration: .makeClientConfiguration())
            cached = made
            return made
        }
        try pipeline.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverHostname))
    }
}
