import CSystemd

/// Identifiers derived from `/etc/machine-id` without revealing it (`sd_id128_get_machine_app_specific(3)`).
public enum MachineID {
    /// A stable identifier of this machine for one application, formatted as a lower-case GUID;
    /// `nil` when the machine has no machine id. `application` is a 128-bit application id
    /// given as 32 hexadecimal digits.
    public static func applicationSpecificGUID(application: String) -> String? {
        var appID = sd_id128_t()
        guard sd_id128_from_string(application, &appID) == 0 else { return nil }
        var result = sd_id128_t()
        guard sd_id128_get_machine_app_specific(appID, &result) == 0 else { return nil }
        let bytes = withUnsafeBytes(of: result.bytes) { Array($0) }
        var hex = bytes.map { byte -> String in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
        // Format 8-4-4-4-12.
        for position in [8, 13, 18, 23] {
            hex.insert("-", at: hex.index(hex.startIndex, offsetBy: position))
        }
        return hex
    }
}
