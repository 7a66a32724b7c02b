/// A daemon that cannot start says why on standard error (the journal under systemd), in the
/// form `gsmsd: error: …`, before logging is set up.
public enum StartupFailure {
    public static func report(program: String, _ message: String) {
        StandardErrorWriter.shared.write(line: "\(program): error: \(message)")
    }
}
