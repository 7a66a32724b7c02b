import SessionHostModel

/// The GSDK front end's configuration: where it listens (loopback only) and what the config
/// file it writes for the game server says.
public struct GSDKSettings: Sendable, Equatable {
    /// A loopback IP address: `127.0.0.1` (any of 127.0.0.0/8) or `::1`.
    public var host: String
    /// `0` picks a free port at the first start; the config file then names the one bound, and
    /// later starts bind the same one again while the config file still names it (kept in
    /// `stateDirectory`, see `GSDKListener`).
    public var port: Int
    /// Where the agent writes the GSDK config file (`GSDK_CONFIG_FILE` of the game server).
    public var configFilePath: String
    /// `logFolder` of the config file: where the SDK writes its log (empty: its working directory).
    public var logFolder: String
    /// Whether the agent creates `logFolder` writable by its group (which the game server runs
    /// in) before it writes the config file: the default folder, not one an operator named.
    public var createsLogFolder: Bool
    /// `sharedContentFolder` of the config file.
    public var sharedContentFolder: String
    /// The agent's state directory, where the front end keeps `gsdk.json` (the port picked for
    /// port 0, the session the game server took) across restarts; `nil` keeps nothing.
    public var stateDirectory: String?

    public init(
        host: String, port: Int, configFilePath: String, logFolder: String = "", createsLogFolder: Bool = false,
        sharedContentFolder: String = "", stateDirectory: String? = nil
    ) {
        self.host = host
        self.port = port
        self.configFilePath = configFilePath
        self.logFolder = logFolder
        self.createsLogFolder = createsLogFolder
        self.sharedContentFolder = sharedContentFolder
        self.stateDirectory = stateDirectory
    }

    /// Slot `number`'s settings when the agent runs `count` slots: each slot's game server has
    /// its own listener, config file and state. With one slot they are `base`; with several,
    /// slot K listens on the base port + K − 1 (port 0: each picks its own), writes
    /// `gsdkConfig-K.json` (the base file's name with `-K`), and keeps its GSDK state and
    /// default log folder in its own state directory.
    public static func forSlot(_ number: Int, of count: Int, base: GSDKSettings) -> GSDKSettings {
        guard count > 1 else { return base }
        var settings = base
        if base.port != 0 { settings.port = base.port + number - 1 }
        let path = base.configFilePath
        settings.configFilePath =
            path.hasSuffix(".json") ? "\(path.dropLast(5))-\(number).json" : "\(path)-\(number)"
        settings.stateDirectory = base.stateDirectory.map { SlotPlan.stateDirectory(of: number, in: $0) }
        if base.createsLogFolder, let directory = settings.stateDirectory {
            settings.logFolder = directory + "/" + defaultLogFolderName
        }
        return settings
    }

    /// The name of the default log folder in the state directory.
    public static let defaultLogFolderName = "gsdk-logs"

    /// Parses `--gsdk-listen HOST:PORT` (`[::1]:PORT` for IPv6; `localhost` means 127.0.0.1) and
    /// refuses any address that is not loopback: the protocol has no authentication, so only
    /// processes on this machine may speak it.
    public static func parseListen(_ text: String) throws(InvalidInput) -> (host: String, port: Int) {
        let usage =
            "--gsdk-listen must be HOST:PORT with a loopback host, e.g. 127.0.0.1:56001 or [::1]:56001; got '\(text.prefix(100))'"
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw InvalidInput(code: .invalidGSDKListen, message: usage)
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw InvalidInput(code: .invalidGSDKListen, message: usage)
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw InvalidInput(code: .invalidGSDKListen, message: usage)
        }
        if host.lowercased() == "localhost" { host = "127.0.0.1" }
        guard isLoopback(String(host)) else {
            throw InvalidInput(
                code: .gsdkListenNotLoopback,
                message:
                    "--gsdk-listen must be a loopback address (127.0.0.1 or ::1): the GSDK protocol has no authentication; got '\(host.prefix(100))'"
            )
        }
        return (String(host), port)
    }

    /// Whether `host` is an IPv4 address in 127.0.0.0/8 or the IPv6 loopback address.
    static func isLoopback(_ host: String) -> Bool {
        if isIPv4(host) { return host.hasPrefix("127.") }
        return host == "::1" || host == "0:0:0:0:0:0:0:1"
    }

    /// Whether `text` is a dotted-decimal IPv4 address.
    static func isIPv4(_ text: String) -> Bool {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4
            && octets.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && UInt8($0) != nil }
    }

    /// `heartbeatEndpoint` for the config file: `HOST:PORT`, which the SDKs put after `http://`.
    public static func endpoint(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
