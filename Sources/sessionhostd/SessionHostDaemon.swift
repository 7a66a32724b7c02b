import SessionHostAgent

/// The entry point: everything lives in `SessionHostAgent`.
@main
extension SessionHostDaemonCommand {}
