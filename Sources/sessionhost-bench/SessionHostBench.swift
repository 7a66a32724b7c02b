import SessionHostBenchmarks

/// The `sessionhost-bench` executable; everything lives in the SessionHostBenchmarks library.
@main
extension BenchCommand {}
