import SessionHostModel

/// Where gsmsd sends a `ScalingRequest` (its JSON) when the VMs wanted for a title's region
/// change: a command (`ScalingHookCommand`) or a webhook (`ScalingHookWebhook`).
protocol ScalingHook: Sendable {
    /// Delivers `body` (a `ScalingRequest` as JSON); throws a `ScalingHookError` when the hook
    /// did not take it (the value then counts as not sent, and is sent again at the next interval).
    func send(_ body: [UInt8]) async throws
}

/// A scaling hook that did not take a request.
struct ScalingHookError: Error, Sendable, Equatable, CustomStringConvertible {
    var code: Code
    var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { "\(code): \(message)" }

    /// Why the hook failed.
    struct Code: ErrorCode {
        let rawValue: String
        init(rawValue: String) { self.rawValue = rawValue }

        /// The command could not be started.
        static let cannotStart = Code(rawValue: "ScalingHookCannotStart")
        /// The command exited with a status other than 0, or was killed by a signal.
        static let commandFailed = Code(rawValue: "ScalingHookCommandFailed")
        /// No answer (or no exit) within the hook's timeout.
        static let timedOut = Code(rawValue: "ScalingHookTimedOut")
        /// The webhook could not be reached (connection refused, reset, name not resolved …).
        static let unreachable = Code(rawValue: "ScalingHookUnreachable")
        /// The webhook answered with a status other than 2xx.
        static let rejected = Code(rawValue: "ScalingHookRejected")
    }
}

extension ScalingHookConfiguration {
    /// The hook this configuration describes.
    func makeHook() -> any ScalingHook {
        switch target {
        case .command(let command): ScalingHookCommand(command: command, timeout: timeout)
        case .webhook(let host, let port, let path):
            ScalingHookWebhook(host: host, port: port, path: path, timeout: timeout)
        }
    }
}
