/// The `Authorization: XBL3.0 x=<userhash>;<token>` header of the public REST API (SPEC §2).
public enum XBLAuthorization {
    /// The scheme, matched ignoring case.
    public static let scheme = "XBL3.0"

    /// The token in an `Authorization` header value: `XBL3.0 x=<userhash>;<token>`.
    ///
    /// The scheme is matched ignoring case and surrounding white space is ignored; `x=` is
    /// required, the user hash is any text without `;` (it is not checked), and the token is
    /// non-empty without white space. `nil` or a blank value throws `MissingAuthorization`;
    /// anything else that does not fit throws `MalformedAuthorization`. Messages never contain
    /// the header.
    public static func token(fromHeader header: String?) throws(TitleTokenError) -> String {
        let value = trimmed(Substring(header ?? ""))
        guard !value.isEmpty else {
            throw TitleTokenError(
                code: .missingAuthorization,
                message: "the request has no Authorization header; send 'Authorization: XBL3.0 x=<userhash>;<token>'")
        }
        guard let space = value.firstIndex(where: isWhitespace),
            value[..<space].lowercased() == scheme.lowercased()
        else {
            throw malformed("the Authorization scheme must be \(scheme)")
        }
        let parameters = trimmed(value[space...])
        guard parameters.hasPrefix("x=") else {
            throw malformed("the Authorization value must start with x=<userhash>;")
        }
        guard let semicolon = parameters.firstIndex(of: ";") else {
            throw malformed("the Authorization value has no ';' between the user hash and the token")
        }
        let token = trimmed(parameters[parameters.index(after: semicolon)...])
        guard !token.isEmpty else {
            throw malformed("the Authorization value has an empty token after ';'")
        }
        guard !token.contains(where: isWhitespace) else {
            throw malformed("the token in the Authorization value contains white space")
        }
        return String(token)
    }

    private static func malformed(_ reason: String) -> TitleTokenError {
        TitleTokenError(
            code: .malformedAuthorization,
            message: "\(reason); expected 'Authorization: XBL3.0 x=<userhash>;<token>'")
    }

    private static func isWhitespace(_ character: Character) -> Bool {
        character == " " || character == "\t"
    }

    private static func trimmed(_ text: Substring) -> Substring {
        guard let first = text.firstIndex(where: { !isWhitespace($0) }),
            let last = text.lastIndex(where: { !isWhitespace($0) })
        else { return "" }
        return text[first...last]
    }
}
