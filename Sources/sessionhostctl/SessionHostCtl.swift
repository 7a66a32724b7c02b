import SessionHostCLI

/// The entry point: everything lives in `SessionHostCLI`.
@main
extension SessionHostControl {}
