import SessionHostModel

/// The checks of `"standby-buffers"`, `"scaling-hook"` and `"buffer-interval"`.
extension ServiceConfiguration {
    /// The most VMs a policy may ask for (`max-vms`).
    static let maximumVMsPerPolicy = 10_000
    /// The most hosts a policy may keep standing by (`buffer`).
    static let maximumBufferHosts = 640_000
    /// The most hosts one VM runs (the agent's `slots`).
    static let maximumSlotsPerVM = 64

    /// Checks every entry: `titles` are the subscribed titles.
    static func standbyBufferPolicies(_ entries: [StandbyBufferConfigEntry], titles: Set<String>) throws(InvalidInput)
        -> [StandbyBufferPolicy]
    {
        var policies: [StandbyBufferPolicy] = []
        var seen: [String: Int] = [:]
        for (index, entry) in entries.enumerated() {
            let place = "standby-buffers[\(index)]"
            func invalid(_ message: String) -> InvalidInput {
                InvalidInput(code: .invalidStandbyBuffer, message: "\(place): \(message)")
            }
            guard let title = entry.title else { throw invalid("\"title\" is required (a subscribed title id)") }
            do {
                _ = try TitleRules.validatedTitleID(title)
            } catch {
                throw invalid(error.message)
            }
            guard titles.contains(title) else {
                throw invalid(
                    "title '\(title)' has no subscription; add it to \"title\" (--title) or remove this policy")
            }
            guard let region = entry.region, !TitleRules.locationKey(region).isEmpty else {
                throw invalid("\"region\" is required: the region as the agents register it, e.g. \"westus\"")
            }
            guard region.count <= 64 else { throw invalid("\"region\" must be at most 64 characters") }
            let key = title + "\u{0}" + TitleRules.locationKey(region)
            if let first = seen[key] {
                throw invalid(
                    "title '\(title)' in region '\(region)' already has a policy (standby-buffers[\(first)]); keep one")
            }
            seen[key] = index

            var bufferHosts: Int?
            var bufferPercent: Double?
            switch (entry.buffer, entry.bufferPercent) {
            case (nil, nil), (.some, .some):
                throw invalid(
                    "give exactly one of \"buffer\" (hosts to keep StandingBy) and \"buffer-percent\" (0 to 99.9)")
            case (let hosts?, nil):
                guard let whole = wholeNumber(hosts), (0...maximumBufferHosts).contains(whole) else {
                    throw invalid("\"buffer\" must be a whole number of hosts, 0 to \(maximumBufferHosts)")
                }
                bufferHosts = whole
            case (nil, let percent?):
                guard percent.isFinite, percent >= 0, percent < 100 else {
                    throw invalid("\"buffer-percent\" must be at least 0 and less than 100")
                }
                bufferPercent = percent
            }

            guard let maxValue = entry.maxVMs else {
                throw invalid("\"max-vms\" is required: the most VMs the region may have (0 to \(maximumVMsPerPolicy))")
            }
            guard let maxVMs = wholeNumber(maxValue), (0...maximumVMsPerPolicy).contains(maxVMs) else {
                throw invalid("\"max-vms\" must be a whole number, 0 to \(maximumVMsPerPolicy)")
            }
            guard let minVMs = wholeNumber(entry.minVMs ?? 0), (0...maxVMs).contains(minVMs) else {
                throw invalid("\"min-vms\" must be a whole number from 0 to max-vms (\(maxVMs))")
            }
            var slotsPerVM: Int?
            if let slots = entry.slotsPerVM {
                guard let whole = wholeNumber(slots), (1...maximumSlotsPerVM).contains(whole) else {
                    throw invalid("\"slots-per-vm\" must be a whole number, 1 to \(maximumSlotsPerVM)")
                }
                slotsPerVM = whole
            }
            policies.append(
                StandbyBufferPolicy(
                    titleId: title, region: region, bufferHosts: bufferHosts, bufferPercent: bufferPercent,
                    minVMs: minVMs, maxVMs: maxVMs, slotsPerVM: slotsPerVM))
        }
        return policies
    }

    /// Checks `"scaling-hook"`.
    static func scalingHook(_ entry: ScalingHookConfigEntry) throws(InvalidInput) -> ScalingHookConfiguration {
        func invalid(_ message: String) -> InvalidInput {
            InvalidInput(code: .invalidScalingHook, message: "scaling-hook: \(message)")
        }
        let timeoutSeconds = entry.timeout ?? 30
        guard timeoutSeconds.isFinite, (0.1...3_600).contains(timeoutSeconds) else {
            throw invalid("\"timeout\" must be 0.1 to 3600 seconds")
        }
        let timeout = Duration.milliseconds(Int64((timeoutSeconds * 1000).rounded()))
        switch (entry.command, entry.url) {
        case (let command?, nil):
            guard !command.allSatisfy(\.isWhitespace) else {
                throw invalid("\"command\" must not be empty: a shell command, e.g. \"/usr/local/bin/scale\"")
            }
            return ScalingHookConfiguration(target: .command(command), timeout: timeout)
        case (nil, let url?):
            return ScalingHookConfiguration(target: try webhookTarget(url), timeout: timeout)
        default:
            throw invalid(
                "give exactly one of \"command\" (run with /bin/sh -c) and \"url\" (http://HOST[:PORT]/PATH)")
        }
    }

    /// `http://HOST[:PORT][/PATH]`, `[IPv6]` hosts in brackets.
    static func webhookTarget(_ url: String) throws(InvalidInput) -> ScalingHookConfiguration.Target {
        let invalid = InvalidInput(
            code: .invalidScalingHook,
            message:
                "scaling-hook: \"url\" must be http://HOST[:PORT]/PATH, e.g. http://127.0.0.1:9000/scale, got '\(url.prefix(200))'"
        )
        let lower = url.lowercased()
        if lower.hasPrefix("https://") {
            throw InvalidInput(
                code: .invalidScalingHook,
                message:
                    "scaling-hook: https is not supported; use an http:// url on a trusted network, or a \"command\" that calls your HTTPS endpoint"
            )
        }
        guard lower.hasPrefix("http://") else { throw invalid }
        let rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
        guard !authority.contains("@"), !path.contains(where: { $0 == " " || $0 == "#" || $0.isNewline }) else {
            throw invalid
        }
        var host: Substring
        var port = 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let number = Int(after.dropFirst()) else { throw invalid }
                port = number
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let number = Int(authority[authority.index(after: colon)...]) else { throw invalid }
            port = number
        } else {
            host = authority
        }
        guard !host.isEmpty, (1...65_535).contains(port) else { throw invalid }
        return .webhook(host: String(host), port: port, path: path)
    }

    /// The value as an `Int` when it is a finite whole number.
    private static func wholeNumber(_ value: Double) -> Int? {
        guard value.isFinite, value.rounded() == value, abs(value) < 1e15 else { return nil }
        return Int(value)
    }
}
