/// One named port of a session host, as it appears on the wire:
/// `{"Key": "game", "Value": {"internal": 7777, "external": 30000}}` (SPEC §2).
public struct PortMapping: Codable, Sendable, Equatable {
    /// The internal and external port numbers of a mapping.
    public struct Ports: Codable, Sendable, Equatable {
        public var `internal`: Int
        public var external: Int

        public init(internal: Int, external: Int) {
            self.internal = `internal`
            self.external = external
        }
    }

    public var name: String
    public var ports: Ports

    public init(name: String, internal: Int, external: Int) {
        self.name = name
        self.ports = Ports(internal: `internal`, external: external)
    }

    enum CodingKeys: String, CodingKey {
        case name = "Key"
        case ports = "Value"
    }
}

/// A port as configured on the agent: `NAME:PROTOCOL:INTERNAL:EXTERNAL`, e.g. `game:udp:7777:30000`.
public struct PortSpecification: Sendable, Equatable, CustomStringConvertible {
    public enum TransportProtocol: String, Sendable, Codable {
        case udp, tcp
    }

    public var name: String
    public var transport: TransportProtocol
    public var internalPort: Int
    public var externalPort: Int

    public init(name: String, transport: TransportProtocol, internalPort: Int, externalPort: Int) {
        self.name = name
        self.transport = transport
        self.internalPort = internalPort
        self.externalPort = externalPort
    }

    /// Parses `NAME:PROTOCOL:INTERNAL:EXTERNAL`.
    public init(parsing text: String) throws(InvalidInput) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4 else {
            throw InvalidInput(
                code: .invalidPort,
                message: "port '\(text)' must be NAME:PROTOCOL:INTERNAL:EXTERNAL, e.g. game:udp:7777:30000"
            )
        }
        let name = parts[0]
        guard !name.isEmpty, name.count <= 64,
            name.unicodeScalars.allSatisfy({
                $0.isASCII
                    && ($0.properties.isAlphabetic || $0.properties.numericType != nil
                        || "-_.".unicodeScalars.contains($0))
            })
        else {
            throw InvalidInput(
                code: .invalidPort, message: "port name '\(name)' must be 1 to 64 letters, digits, '-', '_' or '.'")
        }
        guard let transport = TransportProtocol(rawValue: parts[1].lowercased()) else {
            throw InvalidInput(code: .invalidPort, message: "port protocol '\(parts[1])' must be udp or tcp")
        }
        guard let internalPort = Int(parts[2]), (1...65535).contains(internalPort),
            let externalPort = Int(parts[3]), (1...65535).contains(externalPort)
        else {
            throw InvalidInput(code: .invalidPort, message: "port numbers in '\(text)' must be 1 to 65535")
        }
        self.init(name: name, transport: transport, internalPort: internalPort, externalPort: externalPort)
    }

    public var description: String { "\(name):\(transport.rawValue):\(internalPort):\(externalPort)" }

    /// The wire shape of SPEC §2.
    public var mapping: PortMapping { PortMapping(name: name, internal: internalPort, external: externalPort) }
}
