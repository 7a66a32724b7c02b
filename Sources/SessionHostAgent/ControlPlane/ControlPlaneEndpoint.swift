import SessionHostModel

/// Where gsmsd is, from `--control-plane URL`: `http://` or `https://`, a host name or IP address
/// (IPv6 in brackets), an optional port and an optional path prefix. No user info, query or
/// fragment.
public struct ControlPlaneEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var usesTLS: Bool
    public var host: String
    public var port: Int
    /// Prepended to every request path; empty or starting with `/`, never ending with `/`.
    public var pathPrefix: String

    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return (usesTLS ? "https://" : "http://") + shownHost + ":\(port)" + pathPrefix
    }

    /// The `Host` header: the host, with the port unless it is the scheme's default.
    var hostHeader: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return port == (usesTLS ? 443 : 80) ? shownHost : "\(shownHost):\(port)"
    }

    public init(usesTLS: Bool, host: String, port: Int, pathPrefix: String) {
        self.usesTLS = usesTLS
        self.host = host
        self.port = port
        self.pathPrefix = pathPrefix
    }

    /// Parses `--control-plane URL`.
    public init(url: String) throws(InvalidInput) {
        let invalid = InvalidInput(
            code: .invalidControlPlane,
            message:
                "--control-plane must be an http:// or https:// URL such as http://gsms.internal:8080, got '\(url.prefix(300))'"
        )
        let rest: Substring
        if url.lowercased().hasPrefix("http://") {
            usesTLS = false
            rest = url.dropFirst("http://".count)
        } else if url.lowercased().hasPrefix("https://") {
            usesTLS = true
            rest = url.dropFirst("https://".count)
        } else {
            throw invalid
        }
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        guard !authority.isEmpty, !authority.contains("@"), !path.contains("?"), !path.contains("#"),
            !url.contains(where: { $0.isWhitespace || !$0.isASCII })
        else { throw invalid }
        while path.hasSuffix("/") { path.removeLast() }
        pathPrefix = path

        var portText: Substring?
        if authority.hasPrefix("[") {
            // [IPv6]:port
            guard let close = authority.firstIndex(of: "]") else { throw invalid }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            host = String(authority)
        }
        guard !host.isEmpty else { throw invalid }
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else { throw invalid }
            port = number
        } else {
            port = usesTLS ? 443 : 80
        }
    }
}
