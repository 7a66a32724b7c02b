import ServiceLifecycle

/// Ends the session of a GSDK game server that took it and then stopped heartbeating for the
/// health timeout (`GSDKFrontEnd.endSessionIfSilent`). It sleeps until the deadline or, while no
/// game server holds a session, until one takes one: no polling.
public struct GSDKSilenceMonitor: Service {
    public let frontEnd: GSDKFrontEnd

    public init(frontEnd: GSDKFrontEnd) {
        self.frontEnd = frontEnd
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var taken = frontEnd.sessionTaken.makeAsyncIterator()
            while !Task.isCancelled {
                if let deadline = await frontEnd.silenceDeadline() {
                    do {
                        try await Task.sleep(until: deadline, tolerance: .milliseconds(50), clock: .continuous)
                    } catch {
                        return
                    }
                    await frontEnd.endSessionIfSilent()
                } else if await taken.next() == nil {
                    return
                }
            }
        }
    }
}
