import ArgumentParser

/// The command-line flags of `sessionhostd`. Every flag can also be set in the configuration
/// file (`--config`), under the same name without the dashes; a flag wins over the file.
public struct AgentOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(
        name: .long,
        help: ArgumentHelp(
            "JSON configuration file; keys are the long flag names, e.g. {\"region\": \"WestUS\", \"port\": [\"game:udp:7777:30000\"]}.",
            valueName: "FILE"))
    public var config: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Unix socket to serve the game on. Default: $RUNTIME_DIRECTORY/agent.sock, else /run/sessionhost/agent.sock. Ignored when systemd passes a socket.",
            valueName: "PATH"))
    public var socket: String?

    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp(
            "Where the host identity and the current session are kept. Default: $STATE_DIRECTORY, else /var/lib/sessionhost.",
            valueName: "DIR"))
    public var stateDir: String?

    @Option(
        name: .customLong("control-plane"),
        help: ArgumentHelp(
            "Base URL of gsmsd, e.g. http://gsms.internal:8080. Without it the agent runs in local mode (sessionhostctl allocate hands it sessions).",
            valueName: "URL"))
    public var controlPlane: String?

    @Option(
        name: .customLong("agent-token-file"),
        help: ArgumentHelp(
            "File holding the fleet secret (at least 32 bytes) that authenticates the agent to gsmsd. Required with --control-plane.",
            valueName: "FILE"))
    public var agentTokenFile: String?

    @Option(name: .customLong("title-id"), help: ArgumentHelp("The title this host serves.", valueName: "ID"))
    public var titleId: String?

    @Option(
        name: .customLong("host-id"),
        help: ArgumentHelp(
            "Session host id. Default: derived from /etc/machine-id (stable per machine), else a random GUID kept in the state directory.",
            valueName: "ID"))
    public var hostId: String?

    @Option(
        name: .long, help: ArgumentHelp("Region (location) of this host, e.g. WestUS. Default: local.", valueName: "R"))
    public var region: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Host name players connect to. Default: this machine's host name.", valueName: "H"))
    public var hostname: String?

    @Option(
        name: .customLong("port"),
        help: ArgumentHelp(
            "A port of the game server, NAME:PROTOCOL:INTERNAL:EXTERNAL, e.g. game:udp:7777:30000. Repeatable.",
            valueName: "NAME:PROTOCOL:INTERNAL:EXTERNAL"))
    public var ports: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Session hosts (game servers) this agent runs, 1 to 64, each with its own host id, ports, state, socket (agent-K.sock beside --socket) and session. Default: 1. See docs/operations.md, Several game servers per VM.",
            valueName: "N"))
    public var slots: Int?

    @Option(
        name: .customLong("slot-port-stride"),
        help: ArgumentHelp(
            "With --slots: slot K's ports are each --port plus (K-1) times this. Default: the span of the --port numbers plus one (7777 and 7778 give 2).",
            valueName: "N"))
    public var slotPortStride: Int?

    @Option(
        name: .customLong("vm-id"),
        help: ArgumentHelp(
            "The VM this agent runs on, e.g. the cloud instance id; gsmsd packs sessions onto VMs that already run some. Default: derived from /etc/machine-id.",
            valueName: "ID"))
    public var vmId: String?

    @Option(
        name: .customLong("secure-context"),
        help: ArgumentHelp("The host's opaque secure device address, in base64.", valueName: "BASE64"))
    public var secureContext: String?

    @Option(
        name: .customLong("sandbox-id"),
        help: ArgumentHelp("Sandbox this host serves; it only takes allocations for this sandbox.", valueName: "ID"))
    public var sandboxId: String?

    @Option(name: .customLong("cloud-game-id"), help: ArgumentHelp("Cloud game this host serves.", valueName: "ID"))
    public var cloudGameId: String?

    @Option(name: .customLong("game-mode-id"), help: ArgumentHelp("Game mode this host serves.", valueName: "ID"))
    public var gameModeId: String?

    @Option(
        name: .customLong("health-timeout"),
        help: ArgumentHelp(
            "Seconds without a heartbeat from a game that called ready before the host is Unhealthy; 0 turns the check off. Default: 30.",
            valueName: "SECONDS"))
    public var healthTimeout: Double?

    @Option(
        name: .customLong("idle-timeout"),
        help: ArgumentHelp(
            "Seconds a socket connection may stay idle, or take to send a request, before it is closed; held requests (session?wait=, events) are never cut. Default: 75.",
            valueName: "SECONDS"))
    public var idleTimeout: Double?

    @Option(
        name: .customLong("allow-user"),
        help: ArgumentHelp(
            "A user (name or uid) allowed on the socket besides root and the agent's own user. Repeatable.",
            valueName: "USER"))
    public var allowUsers: [String] = []

    @Option(
        name: .customLong("allow-group"),
        help: ArgumentHelp(
            "A group (name or gid) whose members may use the socket. Default: the agent's own group. Repeatable.",
            valueName: "GROUP"))
    public var allowGroups: [String] = []

    @Option(
        name: .customLong("gsdk-listen"),
        help: ArgumentHelp(
            "Also serve PlayFab GSDK game servers: the GSDK agent protocol on this loopback address, e.g. 127.0.0.1:56001 (port 0 picks a free one at the first start and keeps it in the state directory: later starts bind it again). See docs/gsdk-compatibility.md.",
            valueName: "HOST:PORT"))
    public var gsdkListen: String?

    @Option(
        name: .customLong("gsdk-config-file"),
        help: ArgumentHelp(
            "Where the agent writes the GSDK config file the game server reads (GSDK_CONFIG_FILE). Default: gsdkConfig.json beside the socket.",
            valueName: "PATH"))
    public var gsdkConfigFile: String?

    @Option(
        name: .customLong("gsdk-log-folder"),
        help: ArgumentHelp(
            "logFolder in the GSDK config file: where the SDK writes its log. Default: gsdk-logs in the state directory, created by the agent and writable by its group (the game server's). An empty value leaves it to the game server's working directory.",
            valueName: "DIR"))
    public var gsdkLogFolder: String?

    @Option(
        name: .customLong("gsdk-shared-content-folder"),
        help: ArgumentHelp("sharedContentFolder in the GSDK config file. Default: empty.", valueName: "DIR"))
    public var gsdkSharedContentFolder: String?

    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp("trace, debug, info, notice, warning, error or critical. Default: info.", valueName: "LEVEL")
    )
    public var logLevel: String?

    @Option(
        name: .customLong("on-drained"),
        help: ArgumentHelp(
            "Run this shell command (/bin/sh -c) once per drain, when the draining VM has no session left, e.g. a cloud CLI that deletes the VM. It gets SESSIONHOST_VM_ID, SESSIONHOST_DRAIN_DEADLINE and SESSIONHOST_DRAIN_SOURCE; its exit status is logged, and it is killed after 10 minutes. Default: none.",
            valueName: "COMMAND"))
    public var onDrained: String?

    @Option(
        name: .customLong("metrics-listen"),
        help: ArgumentHelp(
            "Serve Prometheus metrics at http://HOST:PORT/metrics, e.g. 127.0.0.1:9464 (no authentication: prefer loopback). Default: off.",
            valueName: "HOST:PORT"))
    public var metricsListen: String?
}
