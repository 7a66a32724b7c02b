#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The file the GSDKs read at start-up from `GSDK_CONFIG_FILE`: where the agent listens, which
/// session host the game server is, its ports and folders. Member names are those the SDKs
/// parse (docs/gsdk-compatibility.md); the public address appears under each spelling an SDK
/// reads (`publicIpV4Adress` is the C#, Unity and Unreal SDKs' own spelling).
public struct GSDKConfigFile: Codable, Sendable, Equatable {
    public var heartbeatEndpoint: String
    public var sessionHostId: String
    public var vmId: String
    public var logFolder: String
    public var sharedContentFolder: String
    public var certificateFolder: String
    public var gameCertificates: [String: String]
    public var buildMetadata: [String: String]
    /// Port name to the port the game server listens on, as text (the C++ SDK reads strings).
    public var gamePorts: [String: String]
    /// The host name when it is an IPv4 address, else empty (never absent: some SDKs read it
    /// without checking).
    public var publicIpV4Address: String
    public var ipV4Address: String
    public var fullyQualifiedDomainName: String
    public var gameServerConnectionInfo: ConnectionInfo
    /// Which of the agent's game servers this is (its slot, 1…N; 1 with one slot).
    public var serverInstanceNumber: Int?

    public struct ConnectionInfo: Codable, Sendable, Equatable {
        public var publicIpV4Adress: String
        public var publicIpV4Address: String
        public var ipV4Address: String
        public var gamePortsConfiguration: [GamePort]

        enum CodingKeys: String, CodingKey {
            case publicIpV4Adress, publicIpV4Address
            case ipV4Address = "IpV4Address"
            case gamePortsConfiguration
        }
    }

    public struct GamePort: Codable, Sendable, Equatable {
        public var name: String
        /// The port the game server listens on (the host's internal port).
        public var serverListeningPort: Int
        /// The port players connect to (the host's external port).
        public var clientConnectionPort: Int
    }

    enum CodingKeys: String, CodingKey {
        case heartbeatEndpoint, sessionHostId, vmId, logFolder, sharedContentFolder, certificateFolder
        case gameCertificates, buildMetadata, gamePorts, publicIpV4Address
        case ipV4Address = "IpV4Address"
        case fullyQualifiedDomainName, gameServerConnectionInfo, serverInstanceNumber
    }

    /// The file for this host: its id and ports, the GSDK listener's endpoint and folders.
    public init(sessionHostId: String, identity: HostIdentity, endpoint: String, settings: GSDKSettings) {
        let address = GSDKSettings.isIPv4(identity.hostName) ? identity.hostName : ""
        heartbeatEndpoint = endpoint
        self.sessionHostId = sessionHostId
        vmId = identity.hostName
        logFolder = settings.logFolder
        sharedContentFolder = settings.sharedContentFolder
        certificateFolder = ""
        gameCertificates = [:]
        buildMetadata = [:]
        gamePorts = Dictionary(
            identity.ports.map { ($0.name, String($0.internalPort)) }, uniquingKeysWith: { first, _ in first })
        publicIpV4Address = address
        ipV4Address = address
        fullyQualifiedDomainName = identity.hostName
        serverInstanceNumber = identity.slot
        gameServerConnectionInfo = ConnectionInfo(
            publicIpV4Adress: address, publicIpV4Address: address, ipV4Address: address,
            gamePortsConfiguration: identity.ports.map {
                GamePort(name: $0.name, serverListeningPort: $0.internalPort, clientConnectionPort: $0.externalPort)
            })
    }

    /// The file's bytes: pretty-printed JSON with sorted keys.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return Array("{}".utf8) }
        return Array(data) + [UInt8(ascii: "\n")]
    }

    /// The `heartbeatEndpoint` of the config file at `path`, if there is one that names it: the
    /// endpoint a game server that read the file heartbeats.
    static func endpoint(inFileAt path: String) -> String? {
        struct Named: Decodable { var heartbeatEndpoint: String }
        guard let bytes = try? AtomicFile.read(path) else { return nil }
        return (try? JSONDecoder().decode(Named.self, from: Data(bytes)))?.heartbeatEndpoint
    }

    /// Makes `path`, the default `logFolder`, a directory the game server can write: created if
    /// missing, with the owner's and the group's read, write and search bits (0770 unless more
    /// were set). The game server runs in the agent's group (`SupplementaryGroups=sessionhost`);
    /// without a folder it may write, the Go SDK opens `/GSDK_output_*.txt` and panics. No setgid
    /// bit: the agent's unit forbids setting it (`RestrictSUIDSGID=yes`).
    public static func prepareLogFolder(_ path: String) throws(AgentError) {
        func failure(_ what: String) -> AgentError {
            AgentError.failure(
                .gsdkLogFolder, "cannot prepare the GSDK log folder \(path): \(what)")
        }
        var info = stat()
        if stat(path, &info) != 0 {
            guard errno == ENOENT else { throw failure(String(cString: strerror(errno))) }
            if mkdir(path, 0o770) != 0, errno != EEXIST { throw failure("mkdir: \(String(cString: strerror(errno)))") }
            guard stat(path, &info) == 0 else { throw failure(String(cString: strerror(errno))) }
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw failure("it exists and is not a directory") }
        let mode = info.st_mode & 0o7777
        let wanted = mode | 0o770
        if mode != wanted, chmod(path, wanted) != 0 {
            throw failure("chmod \(String(wanted, radix: 8)): \(String(cString: strerror(errno)))")
        }
    }

    /// Writes the file atomically, readable by everyone (it holds no secret, and the game server
    /// may run as any user).
    public func write(to path: String) throws(AgentError) {
        do {
            try AtomicFile.write(encoded(), to: path, mode: 0o644, exactMode: true)
        } catch {
            throw AgentError.failure(
                .gsdkConfigNotWritten, "cannot write the GSDK config file: \(error)")
        }
    }
}
