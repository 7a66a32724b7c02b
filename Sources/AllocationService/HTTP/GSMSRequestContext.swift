import Hummingbird
import NIOCore

/// gsmsd's request context: Hummingbird's basic context plus the request's connection, so that
/// a held hand-off poll can turn on keepalive probes and notice when its connection dies
/// (`HandoffConnection`).
struct GSMSRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
