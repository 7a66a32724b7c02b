import Foundation
import SessionHostModel
import Testing

@testable import AllocationService

/// gsmsd's `"standby-buffers"`, `"scaling-hook"` and `"buffer-interval"` config keys.
@Suite("gsmsd standby buffer configuration")
struct StandbyBufferConfigurationTests {
    static let required = ["--token-key-file", "/k", "--agent-token-file", "/a"]

    /// Resolves a config file holding `json`'s keys plus `"title": ["1234", "ABCD"]`.
    static func resolve(_ json: String) throws -> ServiceConfiguration {
        let text = #"{"title": ["1234", "ABCD"], "# + json + "}"
        let file = try JSONDecoder().decode(ServiceConfigFile.self, from: Data(text.utf8))
        return try ServiceConfiguration.resolve(
            options: try ServiceOptions.parse(required), file: file, environment: [:])
    }

    /// The code and message a config refusal has.
    static func refusal(_ json: String) throws -> InvalidInput {
        try #require(throws: InvalidInput.self, "\(json)") { try Self.resolve(json) }
    }

    @Test("defaults: no policy, no hook, every 5 s")
    func defaults() throws {
        let configuration = try Self.resolve(#""log-level": "info""#)
        #expect(configuration.standbyBuffers.isEmpty)
        #expect(configuration.scalingHook == nil)
        #expect(configuration.bufferInterval == .seconds(5))
    }

    @Test("good policies, a command hook, a webhook and an interval are read")
    func goodValues() throws {
        let configuration = try Self.resolve(
            #"""
            "standby-buffers": [
              {"title": "1234", "region": "westus", "buffer": 4, "min-vms": 1, "max-vms": 50},
              {"title": "1234", "region": "East US", "buffer-percent": 20, "max-vms": 10, "slots-per-vm": 4},
              {"title": "ABCD", "region": "westus", "buffer": 0, "max-vms": 0}
            ],
            "scaling-hook": {"command": "/usr/local/bin/scale", "timeout": 2.5},
            "buffer-interval": 0.5
            """#)
        #expect(
            configuration.standbyBuffers == [
                StandbyBufferPolicy(titleId: "1234", region: "westus", bufferHosts: 4, minVMs: 1, maxVMs: 50),
                StandbyBufferPolicy(
                    titleId: "1234", region: "East US", bufferPercent: 20, minVMs: 0, maxVMs: 10, slotsPerVM: 4),
                StandbyBufferPolicy(titleId: "ABCD", region: "westus", bufferHosts: 0, maxVMs: 0),
            ])
        #expect(
            configuration.scalingHook
                == ScalingHookConfiguration(target: .command("/usr/local/bin/scale"), timeout: .milliseconds(2500)))
        #expect(configuration.bufferInterval == .milliseconds(500))

        let webhook = try Self.resolve(#""scaling-hook": {"url": "http://127.0.0.1:9000/scale"}"#)
        #expect(
            webhook.scalingHook
                == ScalingHookConfiguration(
                    target: .webhook(host: "127.0.0.1", port: 9000, path: "/scale"), timeout: .seconds(30)))
        let bare = try Self.resolve(#""scaling-hook": {"url": "http://[::1]"}"#)
        #expect(bare.scalingHook?.target == .webhook(host: "::1", port: 80, path: "/"))
    }

    @Test(
        "every bad policy is refused with InvalidStandbyBuffer and a message saying what to change",
        arguments: [
            (#"{"region": "westus", "buffer": 4, "max-vms": 5}"#, "\"title\" is required"),
            (#"{"title": "12 34", "region": "westus", "buffer": 4, "max-vms": 5}"#, "titleId must be"),
            (#"{"title": "9999", "region": "westus", "buffer": 4, "max-vms": 5}"#, "has no subscription"),
            (#"{"title": "1234", "buffer": 4, "max-vms": 5}"#, "\"region\" is required"),
            (#"{"title": "1234", "region": "  ", "buffer": 4, "max-vms": 5}"#, "\"region\" is required"),
            (#"{"title": "1234", "region": "westus", "max-vms": 5}"#, "exactly one of \"buffer\""),
            (
                #"{"title": "1234", "region": "westus", "buffer": 1, "buffer-percent": 5, "max-vms": 5}"#,
                "exactly one of \"buffer\""
            ),
            (#"{"title": "1234", "region": "westus", "buffer": -1, "max-vms": 5}"#, "\"buffer\" must be a whole"),
            (#"{"title": "1234", "region": "westus", "buffer": 2.5, "max-vms": 5}"#, "\"buffer\" must be a whole"),
            (#"{"title": "1234", "region": "westus", "buffer-percent": 100, "max-vms": 5}"#, "less than 100"),
            (#"{"title": "1234", "region": "westus", "buffer-percent": -1, "max-vms": 5}"#, "less than 100"),
            (#"{"title": "1234", "region": "westus", "buffer": 4}"#, "\"max-vms\" is required"),
            (#"{"title": "1234", "region": "westus", "buffer": 4, "max-vms": 10001}"#, "0 to 10000"),
            (#"{"title": "1234", "region": "westus", "buffer": 4, "max-vms": -1}"#, "0 to 10000"),
            (
                #"{"title": "1234", "region": "westus", "buffer": 4, "min-vms": 6, "max-vms": 5}"#,
                "\"min-vms\" must be a whole number from 0 to max-vms (5)"
            ),
            (#"{"title": "1234", "region": "westus", "buffer": 4, "min-vms": -1, "max-vms": 5}"#, "\"min-vms\""),
            (
                #"{"title": "1234", "region": "westus", "buffer": 4, "max-vms": 5, "slots-per-vm": 0}"#,
                "\"slots-per-vm\" must be a whole number, 1 to 64"
            ),
            (#"{"title": "1234", "region": "westus", "buffer": "four", "max-vms": 5}"#, "are numbers"),
            (#""westus""#, "must be an object"),
        ])
    func badPolicy(entry: String, message: String) throws {
        let error = try Self.refusal(#""standby-buffers": ["# + entry + "]")
        #expect(error.code == .invalidStandbyBuffer)
        #expect(error.message.contains("standby-buffers[0]"))
        #expect(error.message.contains(message), "\(error.message)")
    }

    @Test("a second policy for the same title and region key is refused, naming the first")
    func duplicate() throws {
        let error = try Self.refusal(
            #"""
            "standby-buffers": [
              {"title": "1234", "region": "West US", "buffer": 4, "max-vms": 5},
              {"title": "ABCD", "region": "westus", "buffer": 4, "max-vms": 5},
              {"title": "1234", "region": "westus", "buffer": 2, "max-vms": 9}
            ]
            """#)
        #expect(error.code == .invalidStandbyBuffer)
        #expect(error.message.contains("standby-buffers[2]"))
        #expect(error.message.contains("already has a policy (standby-buffers[0])"))
    }

    @Test("standby-buffers not an array, and buffer-interval out of range, are refused with InvalidStandbyBuffer")
    func badShapeAndInterval() throws {
        for json in [
            #""standby-buffers": {"title": "1234"}"#, #""buffer-interval": 0.05"#,
            #""buffer-interval": 3601"#, #""buffer-interval": "5""#,
        ] {
            let error = try Self.refusal(json)
            #expect(error.code == .invalidStandbyBuffer, "\(json)")
        }
    }

    @Test("an unknown key in a policy or the hook is refused as such, saying where")
    func unknownKeys() throws {
        let policy = try Self.refusal(
            #""standby-buffers": [{"title": "1234", "region": "westus", "bufer": 4, "max-vms": 5}]"#)
        #expect(policy.code == .unknownConfigKey)
        #expect(policy.message.contains("standby-buffers[0]: unknown key 'bufer'"))
        let hook = try Self.refusal(#""scaling-hook": {"command": "x", "retries": 3}"#)
        #expect(hook.code == .unknownConfigKey)
        #expect(hook.message.contains("scaling-hook: unknown key 'retries'"))
        let top = try Self.refusal(#""standby-buffer": []"#)
        #expect(top.code == .unknownConfigKey)
    }

    @Test(
        "every bad hook is refused with InvalidScalingHook",
        arguments: [
            (#"{}"#, "exactly one of \"command\""),
            (#"{"command": "x", "url": "http://a/b"}"#, "exactly one of \"command\""),
            (#"{"command": "  "}"#, "must not be empty"),
            (#"{"url": "https://scaler.internal/scale"}"#, "https is not supported"),
            (#"{"url": "ftp://a/b"}"#, "must be http://HOST[:PORT]/PATH"),
            (#"{"url": "http://:80/x"}"#, "must be http://HOST[:PORT]/PATH"),
            (#"{"url": "http://a:0/x"}"#, "must be http://HOST[:PORT]/PATH"),
            (#"{"url": "http://a:port/x"}"#, "must be http://HOST[:PORT]/PATH"),
            (#"{"command": "x", "timeout": 0}"#, "\"timeout\" must be 0.1 to 3600 seconds"),
            (#"{"command": "x", "timeout": 3601}"#, "\"timeout\" must be 0.1 to 3600 seconds"),
            (#"{"command": 5}"#, "command and url are strings"),
            (#""/usr/local/bin/scale""#, "must be an object"),
        ])
    func badHook(hook: String, message: String) throws {
        let error = try Self.refusal(#""scaling-hook": "# + hook)
        #expect(error.code == .invalidScalingHook)
        #expect(error.message.contains(message), "\(error.message)")
    }
}
