import SessionHostHTTP
import Testing

@Suite("HTTP: the declarative route table")
struct RouteTableTests {
    enum Endpoint: Sendable, Equatable {
        case host, ready, item, itemPart, list
    }

    static let table = RouteTable<Endpoint>([
        Route("GET", "/v1/host", .host),
        Route("POST", "/v1/ready", .ready),
        Route("GET", "/v1/items", .list),
        Route("GET", "/v1/items/{id}", .item),
        Route("PUT", "/v1/items/{id}", .item),
        Route("DELETE", "/v1/items/{id}", .item),
        Route("POST", "/v1/items/{id}/parts/{part}", .itemPart),
    ])

    @Test("a route is found by method and path; unknown paths are not found")
    func found() {
        guard case .found(.host, let parameters) = Self.table.match(method: "GET", path: "/v1/host") else {
            Issue.record("GET /v1/host not found")
            return
        }
        #expect(parameters.isEmpty)
        for path in ["/v2/host", "/v1/host/", "/v1", "/", "", "/v1/items/a/b", "/v1/items/a/parts/"] {
            guard case .notFound = Self.table.match(method: "GET", path: path) else {
                Issue.record("\(path) should be unknown")
                continue
            }
        }
    }

    @Test("a known path with another method is 405, with every method of the path, sorted, for Allow")
    func methodNotAllowed() {
        guard case .methodNotAllowed(let allowed) = Self.table.match(method: "POST", path: "/v1/items/7") else {
            Issue.record("POST /v1/items/7 should be 405")
            return
        }
        #expect(allowed == ["DELETE", "GET", "PUT"])
        #expect(RouteMatch<Endpoint>.allowHeader(allowed) == "DELETE, GET, PUT")
        guard case .methodNotAllowed(let single) = Self.table.match(method: "GET", path: "/v1/ready") else {
            Issue.record("GET /v1/ready should be 405")
            return
        }
        #expect(single == ["POST"])
    }

    @Test("path parameters are matched per segment and decoded")
    func parameters() {
        guard
            case .found(.itemPart, let parameters) = Self.table.match(
                method: "POST", path: "/v1/items/a%20b%2Fc/parts/x+y")
        else {
            Issue.record("the part route was not found")
            return
        }
        #expect(parameters == ["id": "a b/c", "part": "x+y"])
        guard case .found(.item, let item) = Self.table.match(method: "DELETE", path: "/v1/items/%E2%9C%93") else {
            Issue.record("the item route was not found")
            return
        }
        #expect(item == ["id": "✓"])
        // A parameter never matches an empty segment.
        guard case .notFound = Self.table.match(method: "GET", path: "/v1/items//parts/1") else {
            Issue.record("an empty id should not match")
            return
        }
    }

    @Test("literal segments match exactly, or ignoring case when asked; parameters keep their case")
    func caseOfLiterals() {
        guard case .notFound = Self.table.match(method: "GET", path: "/V1/Host") else {
            Issue.record("/V1/Host should be unknown by default")
            return
        }
        let loose = RouteTable<Endpoint>(ignoringCase: true, [Route("PATCH", "/v1/sessionHosts/{id}", .item)])
        guard case .found(.item, let parameters) = loose.match(method: "PATCH", path: "/V1/SESSIONHOSTS/Vm-1") else {
            Issue.record("the route should match ignoring case")
            return
        }
        #expect(parameters == ["id": "Vm-1"])
        #expect(loose.methodsByPattern == ["/v1/sessionHosts/{id}": ["PATCH"]])
    }
}
