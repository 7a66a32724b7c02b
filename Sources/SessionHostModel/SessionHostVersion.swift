/// The release of SessionHost these binaries belong to, printed by every binary's `--version`.
/// `scripts/package` reads it from here as the base of the package version.
public enum SessionHostVersion {
    public static let release = "0.1.0"
}
