import ArgumentParser

/// The flags of `gsmsd` (SPEC §4). Each one overrides the same key of the `--config` file.
public struct ServiceOptions: ParsableArguments, Sendable {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Address to serve the REST API on, HOST:PORT (default 127.0.0.1:8080; port 0 picks a free port).",
            valueName: "HOST:PORT"))
    public var listen: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Inventory database: a SQLite file path or sqlite://PATH (default $STATE_DIRECTORY/gsms.sqlite, else ./gsms.sqlite), or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require] for several instances on one PostgreSQL.",
            valueName: "URL"))
    public var database: String?

    @Option(
        name: [.customLong("title")],
        help: ArgumentHelp(
            "A title id with a subscription (repeatable); requests for other titles get 404.", valueName: "ID"))
    public var titles: [String] = []

    @Option(
        name: .customLong("token-key-file"),
        help: ArgumentHelp("HMAC secret (at least 32 bytes) that verifies title tokens.", valueName: "FILE"))
    public var tokenKeyFile: String?

    @Option(
        name: .customLong("agent-token-file"),
        help: ArgumentHelp(
            "Fleet secret (at least 32 bytes) that agents present as 'Authorization: Bearer <secret>'.",
            valueName: "FILE"))
    public var agentTokenFile: String?

    @Option(
        name: .customLong("operator-token-file"),
        help: ArgumentHelp(
            "Operator secret (at least 32 bytes) for the operator API (/operator/v1/…), presented as 'Authorization: Bearer <secret>'. Without it the operator API answers 404.",
            valueName: "FILE"))
    public var operatorTokenFile: String?

    @Option(
        name: .customLong("handoff-timeout"),
        help: ArgumentHelp(
            "Seconds an agent has to acknowledge a hand-off before the next host is tried (default 5).",
            valueName: "SECONDS"))
    public var handoffTimeout: Double?

    @Option(
        name: .customLong("host-timeout"),
        help: ArgumentHelp(
            "Seconds without a heartbeat after which a host is Unhealthy (default 15).", valueName: "SECONDS"))
    public var hostTimeout: Double?

    @Option(
        name: .customLong("queue-timeout"),
        help: ArgumentHelp(
            "Seconds a queued cluster request lives without being polled (default 30).", valueName: "SECONDS"))
    public var queueTimeout: Double?

    @Option(
        name: .customLong("idle-timeout"),
        help: ArgumentHelp(
            "Seconds a connection may stay idle, or take to send a request's head, before it is closed (default 75).",
            valueName: "SECONDS"))
    public var idleTimeout: Double?

    @Option(
        name: .customLong("allocation-strategy"),
        help: ArgumentHelp(
            "packed (fill the VMs that already run sessions first, so that whole VMs empty out) or distributed (the longest-StandingBy host first) (default packed).",
            valueName: "STRATEGY"))
    public var allocationStrategy: String?

    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default info).", valueName: "LEVEL")
    )
    public var logLevel: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "JSON configuration file; keys are the long flag names (\"title\" is a list).", valueName: "FILE"))
    public var config: String?

    public init() {}
}
