/// The rules every hand-off obeys, whether it comes from the service or, in local mode, from
/// `sessionhostctl allocate` (SPEC §2).
public enum SessionRules {
    /// The largest session cookie, in bytes of UTF-8.
    public static let maximumCookieBytes = 4096

    /// Checks that `sessionId` is a GUID (`8-4-4-4-12` hexadecimal digits, braces not allowed)
    /// and returns it in lower case, the form the system stores and compares.
    public static func validatedSessionID(_ sessionId: String) throws(InvalidInput) -> String {
        guard isGUID(sessionId) else {
            throw InvalidInput(
                code: .invalidSessionId,
                message:
                    "sessionId must be a GUID such as 3536d3e6-e85d-4f47-b898-9617d19dabcd, got '\(sessionId.prefix(80))'"
            )
        }
        return sessionId.lowercased()
    }

    /// Checks the size of a session cookie.
    public static func validateCookie(_ cookie: String?) throws(InvalidInput) {
        guard let cookie else { return }
        let size = cookie.utf8.count
        if size > maximumCookieBytes {
            throw InvalidInput(
                code: .sessionCookieTooLarge,
                message: "sessionCookie is \(size) bytes of UTF-8; the limit is \(maximumCookieBytes)"
            )
        }
    }

    /// Whether `text` is a GUID in its canonical hyphenated form.
    public static func isGUID(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36 else { return false }
        for (index, byte) in utf8.enumerated() {
            switch index {
            case 8, 13, 18, 23:
                if byte != UInt8(ascii: "-") { return false }
            default:
                let isHex =
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
                if !isHex { return false }
            }
        }
        return true
    }
}
