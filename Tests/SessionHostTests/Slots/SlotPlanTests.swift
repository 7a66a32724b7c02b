import Foundation
import SessionHostAgent
import SessionHostModel
import Testing

@Suite("Slots: one agent, several session hosts, each with its own id, ports, state and socket")
struct SlotPlanTests {
    func resolve(_ arguments: [String], file: String = "{}") throws -> AgentConfiguration {
        try AgentConfiguration.resolve(
            options: try AgentOptions.parse(
                ["--socket", "/run/sh/agent.sock", "--state-dir", "/var/lib/sh"] + arguments),
            file: try JSONDecoder().decode(AgentConfigFile.self, from: Data(file.utf8)), environment: [:])
    }

    func refusal(_ arguments: [String], file: String = "{}") -> InvalidInput? {
        do {
            _ = try resolve(arguments, file: file)
            return nil
        } catch let error as InvalidInput {
            return error
        } catch {
            return nil
        }
    }

    @Test("one slot (the default) keeps the single-host layout: the state directory, --socket, --host-id, --port")
    func singleSlot() throws {
        let plans = try resolve(["--host-id", "vm-1", "--port", "game:udp:7777:30000"]).slotPlans()
        #expect(
            plans == [
                SlotPlan(
                    number: 1, stateDirectory: "/var/lib/sh", socketPath: nil, hostId: "vm-1",
                    ports: [PortSpecification(name: "game", transport: .udp, internalPort: 7777, externalPort: 30000)])
            ])
    }

    @Test(
        "N slots: slot K has state in slot-K (slot 1 in the state directory), agent-K.sock, ID-K and ports shifted by the span"
    )
    func layout() throws {
        let plans = try resolve([
            "--slots", "4", "--host-id", "vm-1", "--port", "game:udp:7777:30000", "--port", "query:tcp:7778:30001",
        ]).slotPlans()
        #expect(plans.map(\.number) == [1, 2, 3, 4])
        #expect(
            plans.map(\.stateDirectory) == [
                "/var/lib/sh", "/var/lib/sh/slot-2", "/var/lib/sh/slot-3", "/var/lib/sh/slot-4",
            ])
        #expect(plans.map(\.socketPath) == (1...4).map { "/run/sh/agent-\($0).sock" })
        #expect(plans.map(\.hostId) == ["vm-1-1", "vm-1-2", "vm-1-3", "vm-1-4"])
        // The span of 7777 and 7778 is 1: a stride of 2.
        #expect(plans[2].ports.map(\.internalPort) == [7781, 7782])
        #expect(plans[2].ports.map(\.externalPort) == [30004, 30005])
        #expect(plans[3].ports.map(\.name) == ["game", "query"])
    }

    @Test("--slot-port-stride sets the distance; derived ids stay unset (each slot derives its own)")
    func stride() throws {
        let plans = try resolve(["--slots", "3", "--slot-port-stride", "100", "--port", "game:udp:7777:30000"])
            .slotPlans()
        #expect(plans.map { $0.ports[0].internalPort } == [7777, 7877, 7977])
        #expect(plans.map { $0.ports[0].externalPort } == [30000, 30100, 30200])
        #expect(plans.allSatisfy { $0.hostId == nil })
    }

    @Test("\"slot\" blocks in the config file give each slot its own id and ports; their count is the slot count")
    func blocks() throws {
        let configuration = try resolve(
            [],
            file: """
                {"port": ["game:udp:7777:30000"],
                 "slot": [{"host-id": "alpha"}, {"host-id": "beta", "port": ["game:udp:9000:40000"]}]}
                """)
        let plans = try configuration.slotPlans()
        #expect(configuration.slotCount == 2)
        #expect(plans.map(\.hostId) == ["alpha", "beta"])
        #expect(plans[0].ports.map(\.internalPort) == [7777])
        #expect(plans[1].ports.map(\.internalPort) == [9000])
        #expect(plans[1].ports.map(\.externalPort) == [40000])
    }

    @Test("bad slot settings are refused before the agent starts, with InvalidSlots and words that say what to change")
    func refusals() throws {
        for arguments in [["--slots", "0"], ["--slots", "65"]] {
            #expect(refusal(arguments)?.code == .invalidSlots)
        }
        let collision = refusal([
            "--slots", "2", "--slot-port-stride", "1", "--port", "game:udp:7777:30000", "--port",
            "query:udp:7778:30001",
        ])
        #expect(collision?.code == .invalidSlots)
        #expect(collision?.message.contains("both use internal port udp 7778") == true)
        #expect(
            refusal(["--slots", "3", "--slot-port-stride", "40000", "--port", "game:udp:7777:30000"])?.code
                == .invalidSlots)
        #expect(refusal(["--slots", "3"], file: #"{"slot": [{}, {}]}"#)?.code == .invalidSlots)
        #expect(refusal([], file: #"{"slot": [{"host-id": "same"}, {"host-id": "same"}]}"#)?.code == .invalidSlots)
        #expect(refusal([], file: #"{"slot": [{"host": "x"}]}"#)?.message.contains("unknown key 'host'") == true)
        #expect(refusal(["--vm-id", ""])?.code == .invalidVMId)
    }

    @Test(
        "GSDK with slots: slot K listens on the base port + K - 1, writes gsdkConfig-K.json and keeps its state in its own directory"
    )
    func gsdkPerSlot() throws {
        let base = GSDKSettings(
            host: "127.0.0.1", port: 56001, configFilePath: "/run/sh/gsdkConfig.json",
            logFolder: "/var/lib/sh/gsdk-logs", createsLogFolder: true, stateDirectory: "/var/lib/sh")
        #expect(GSDKSettings.forSlot(1, of: 1, base: base) == base)
        let third = GSDKSettings.forSlot(3, of: 4, base: base)
        #expect(third.port == 56003)
        #expect(third.configFilePath == "/run/sh/gsdkConfig-3.json")
        #expect(third.stateDirectory == "/var/lib/sh/slot-3")
        #expect(third.logFolder == "/var/lib/sh/slot-3/gsdk-logs")
        #expect(GSDKSettings.forSlot(1, of: 4, base: base).stateDirectory == "/var/lib/sh")
        var anyPort = base
        anyPort.port = 0
        #expect(GSDKSettings.forSlot(2, of: 4, base: anyPort).port == 0)
    }
}
