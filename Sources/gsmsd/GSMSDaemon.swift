import AllocationService

/// The `gsmsd` executable; everything lives in the AllocationService library.
@main
extension GSMSDaemonCommand {}
