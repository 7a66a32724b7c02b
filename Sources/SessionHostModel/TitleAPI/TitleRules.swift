/// Rules for the names a title uses in the public REST API (SPEC §2).
public enum TitleRules {
    /// The longest title id accepted.
    public static let maximumTitleIDLength = 64

    /// Checks a `{titleId}` path parameter: 1 to 64 ASCII letters, digits, `.`, `_` or `-`
    /// (Xbox title ids are decimal or hexadecimal numbers; other fleets use names).
    public static func validatedTitleID(_ titleId: String) throws(InvalidInput) -> String {
        let isAllowed = { (scalar: Unicode.Scalar) -> Bool in
            scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                    || "._-".unicodeScalars.contains(scalar))
        }
        guard !titleId.isEmpty, titleId.count <= maximumTitleIDLength, titleId.unicodeScalars.allSatisfy(isAllowed)
        else {
            throw InvalidInput(
                code: .invalidTitleId,
                message:
                    "titleId must be 1 to \(maximumTitleIDLength) letters, digits, '.', '_' or '-', got '\(titleId.prefix(80))'"
            )
        }
        return titleId
    }

    /// The form in which location names and host regions are compared: lower case, with white
    /// space removed, so that `West US` matches `WestUS` (SPEC §2).
    public static func locationKey(_ name: String) -> String {
        String(name.unicodeScalars.filter { !$0.properties.isWhitespace }.map(Character.init)).lowercased()
    }

    /// The form in which sandbox, cloud game and game mode ids are compared: trimmed, lower case.
    public static func matchKey(_ value: String?) -> String? {
        guard let value else { return nil }
        let trimmed = value.trimmingWhitespace()
        return trimmed.isEmpty ? nil : trimmed.lowercased()
    }
}

extension String {
    /// The string without leading and trailing white space.
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
