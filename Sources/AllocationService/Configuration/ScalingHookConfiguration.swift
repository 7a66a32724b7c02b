/// Where gsmsd sends a `ScalingRequest` when the VMs wanted for a title's region change
/// (`"scaling-hook"`, docs/operations.md "Standby buffers and scaling").
public struct ScalingHookConfiguration: Sendable, Equatable {
    /// What is called.
    public enum Target: Sendable, Equatable {
        /// A command run with `/bin/sh -c`, the request JSON on its standard input.
        case command(String)
        /// An HTTP POST of the request JSON to `http://host:port/path`.
        case webhook(host: String, port: Int, path: String)
    }

    public var target: Target
    /// How long one call may take before it is abandoned (the command killed) and counted failed.
    public var timeout: Duration

    public init(target: Target, timeout: Duration = .seconds(30)) {
        self.target = target
        self.timeout = timeout
    }
}
