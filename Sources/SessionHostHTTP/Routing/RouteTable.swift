/// One route: a method and a path pattern, and what handles them.
public struct Route<Handler: Sendable>: Sendable {
    public var method: String
    public var pattern: RoutePattern
    public var handler: Handler

    public init(_ method: String, _ pattern: String, _ handler: Handler) {
        self.method = method
        self.pattern = RoutePattern(pattern)
        self.handler = handler
    }
}

/// What a `RouteTable` found for a request.
public enum RouteMatch<Handler: Sendable>: Sendable {
    /// A route takes the method and path; `parameters` are its decoded `{name}` segments.
    case found(Handler, parameters: [String: String])
    /// No route has the path: 404.
    case notFound
    /// Routes have the path but not the method: 405, with `allowed` (sorted) in `Allow`.
    case methodNotAllowed(allowed: [String])
}

/// A declarative table of routes, (method, path pattern) to handler, that finds the handler of
/// a request, or says why there is none (404, or 405 with the path's methods). Routes are
/// tried in order; the first whose pattern and method match wins.
public struct RouteTable<Handler: Sendable>: Sendable {
    public let routes: [Route<Handler>]
    /// Whether literal segments match ignoring case (parameters keep theirs).
    public let ignoresCase: Bool

    public init(ignoringCase: Bool = false, _ routes: [Route<Handler>]) {
        self.routes = routes
        self.ignoresCase = ignoringCase
    }

    /// The route of `method` and `path` (without query).
    public func match(method: String, path: String) -> RouteMatch<Handler> {
        let segments = RoutePattern.split(path)
        var allowed: Set<String> = []
        for route in routes {
            guard let parameters = route.pattern.match(segments, ignoringCase: ignoresCase) else { continue }
            if route.method == method { return .found(route.handler, parameters: parameters) }
            allowed.insert(route.method)
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed.sorted())
    }

    /// Each pattern (as written) with the methods it takes.
    public var methodsByPattern: [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for route in routes { result[route.pattern.description, default: []].insert(route.method) }
        return result
    }
}

extension RouteMatch {
    /// The value of `Allow` for `methods`: `GET, POST`.
    public static func allowHeader(_ methods: [String]) -> String {
        methods.joined(separator: ", ")
    }
}
