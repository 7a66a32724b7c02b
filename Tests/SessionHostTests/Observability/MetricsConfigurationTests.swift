import ArgumentParser
import Foundation
import SessionHostAgent
import SessionHostModel
import Testing

@Suite("sessionhostd --metrics-listen")
struct MetricsConfigurationTests {
    @Test("off by default; HOST:PORT from the flag or the file's metrics-listen key, the flag winning")
    func resolved() throws {
        let none = try AgentConfiguration.resolve(
            options: try AgentOptions.parse([]), file: AgentConfigFile(), environment: [:])
        #expect(none.metricsListen == nil)
        let file = try JSONDecoder().decode(
            AgentConfigFile.self, from: Data(#"{"metrics-listen": "127.0.0.1:9464"}"#.utf8))
        let fromFile = try AgentConfiguration.resolve(options: try AgentOptions.parse([]), file: file, environment: [:])
        #expect(fromFile.metricsListen == MetricsListenAddress(host: "127.0.0.1", port: 9464))
        let fromFlag = try AgentConfiguration.resolve(
            options: try AgentOptions.parse(["--metrics-listen", "[::1]:9100"]), file: file, environment: [:])
        #expect(fromFlag.metricsListen == MetricsListenAddress(host: "::1", port: 9100))
    }

    @Test("malformed addresses are refused with InvalidMetricsListen")
    func invalid() throws {
        for text in [
            "", "9464", "127.0.0.1", ":9464", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "::1:9464", "host:port",
        ] {
            #expect(throws: InvalidInput.self, "\(text)") { try MetricsListenAddress(parsing: text) }
            do {
                _ = try MetricsListenAddress(parsing: text)
            } catch {
                #expect(error.code == .invalidMetricsListen)
            }
        }
    }
}
