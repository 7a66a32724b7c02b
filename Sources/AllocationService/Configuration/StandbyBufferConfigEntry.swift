import SessionHostModel

/// One entry of gsmsd's `"standby-buffers"` key, as written in the file:
/// `{"title": "1234", "region": "westus", "buffer": 4, "min-vms": 1, "max-vms": 50}`.
/// `ServiceConfiguration.resolve` checks it and turns it into a `StandbyBufferPolicy`.
public struct StandbyBufferConfigEntry: Decodable, Sendable, Equatable {
    public var title: String?
    public var region: String?
    /// Hosts to keep StandingBy beyond the busy ones.
    public var buffer: Double?
    /// The share of the hosts to keep StandingBy, in percent.
    public var bufferPercent: Double?
    public var minVMs: Double?
    public var maxVMs: Double?
    public var slotsPerVM: Double?

    public init(
        title: String? = nil, region: String? = nil, buffer: Double? = nil, bufferPercent: Double? = nil,
        minVMs: Double? = nil, maxVMs: Double? = nil, slotsPerVM: Double? = nil
    ) {
        self.title = title
        self.region = region
        self.buffer = buffer
        self.bufferPercent = bufferPercent
        self.minVMs = minVMs
        self.maxVMs = maxVMs
        self.slotsPerVM = slotsPerVM
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case title, region, buffer
        case bufferPercent = "buffer-percent"
        case minVMs = "min-vms"
        case maxVMs = "max-vms"
        case slotsPerVM = "slots-per-vm"
    }

    public init(from decoder: any Decoder) throws {
        let place = "standby-buffers[\(decoder.codingPath.last?.intValue ?? 0)]"
        do {
            try ConfigFile.rejectUnknownKeys(in: decoder, known: CodingKeys.allCases.map(\.rawValue))
        } catch let error as InvalidInput {
            throw InvalidInput(code: error.code, message: "\(place): \(error.message)")
        } catch {
            throw InvalidInput(
                code: .invalidStandbyBuffer,
                message:
                    "\(place) must be an object such as {\"title\": \"1234\", \"region\": \"westus\", \"buffer\": 4, \"max-vms\": 50}"
            )
        }
        do {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            title = try container.decodeIfPresent(String.self, forKey: .title)
            region = try container.decodeIfPresent(String.self, forKey: .region)
            buffer = try container.decodeIfPresent(Double.self, forKey: .buffer)
            bufferPercent = try container.decodeIfPresent(Double.self, forKey: .bufferPercent)
            minVMs = try container.decodeIfPresent(Double.self, forKey: .minVMs)
            maxVMs = try container.decodeIfPresent(Double.self, forKey: .maxVMs)
            slotsPerVM = try container.decodeIfPresent(Double.self, forKey: .slotsPerVM)
        } catch {
            throw InvalidInput(
                code: .invalidStandbyBuffer,
                message:
                    "\(place): \(DecodingErrorDescription.describe(error)) (title and region are strings; buffer, buffer-percent, min-vms, max-vms and slots-per-vm are numbers)"
            )
        }
    }
}

/// gsmsd's `"scaling-hook"` key, as written in the file: `{"command": "/usr/local/bin/scale"}` or
/// `{"url": "http://127.0.0.1:9000/scale"}`, with an optional `"timeout"` in seconds.
public struct ScalingHookConfigEntry: Decodable, Sendable, Equatable {
    public var command: String?
    public var url: String?
    public var timeout: Double?

    public init(command: String? = nil, url: String? = nil, timeout: Double? = nil) {
        self.command = command
        self.url = url
        self.timeout = timeout
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case command, url, timeout
    }

    public init(from decoder: any Decoder) throws {
        do {
            try ConfigFile.rejectUnknownKeys(in: decoder, known: CodingKeys.allCases.map(\.rawValue))
        } catch let error as InvalidInput {
            throw InvalidInput(code: error.code, message: "scaling-hook: \(error.message)")
        } catch {
            throw InvalidInput(
                code: .invalidScalingHook,
                message:
                    "scaling-hook must be an object: {\"command\": \"/usr/local/bin/scale\"} or {\"url\": \"http://127.0.0.1:9000/scale\"}"
            )
        }
        do {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            command = try container.decodeIfPresent(String.self, forKey: .command)
            url = try container.decodeIfPresent(String.self, forKey: .url)
            timeout = try container.decodeIfPresent(Double.self, forKey: .timeout)
        } catch {
            throw InvalidInput(
                code: .invalidScalingHook,
                message:
                    "scaling-hook: \(DecodingErrorDescription.describe(error)) (command and url are strings, timeout a number of seconds)"
            )
        }
    }
}
