import AllocationStore
import Foundation
import SessionHostModel
import Testing

@testable import AllocationService

/// `gsmsd --allocation-strategy` and its config-file key.
@Suite("gsmsd --allocation-strategy")
struct AllocationStrategyOptionTests {
    static let required = ["--token-key-file", "/k", "--agent-token-file", "/a"]

    static func resolve(_ arguments: [String], file: ServiceConfigFile = ServiceConfigFile()) throws
        -> ServiceConfiguration
    {
        try ServiceConfiguration.resolve(
            options: try ServiceOptions.parse(required + arguments), file: file, environment: [:])
    }

    @Test("packed by default; packed or distributed from the flag or the file, the flag winning; else refused")
    func parsing() throws {
        #expect(try Self.resolve([]).allocationStrategy == .packed)
        #expect(try Self.resolve(["--allocation-strategy", "distributed"]).allocationStrategy == .distributed)
        #expect(try Self.resolve(["--allocation-strategy", "packed"]).allocationStrategy == .packed)

        let file = try JSONDecoder().decode(
            ServiceConfigFile.self, from: Data(#"{"allocation-strategy": "distributed"}"#.utf8))
        #expect(try Self.resolve([], file: file).allocationStrategy == .distributed)
        #expect(try Self.resolve(["--allocation-strategy", "packed"], file: file).allocationStrategy == .packed)

        for bad in ["spread", "", "packed,distributed"] {
            let error = try #require(throws: InvalidInput.self, "\(bad)") {
                try Self.resolve(["--allocation-strategy", bad])
            }
            #expect(error.code == .invalidAllocationStrategy)
            #expect(error.message.contains("--allocation-strategy must be one of packed, distributed"))
        }
    }
}
