import Foundation
import SessionHostModel
import SessionHostSDK
import Testing

/// The closed loop of docs/operations.md ("A day in the life"): gsmsd's standby buffer asks a
/// test cloud for VMs through its scaling hook; the cloud starts agents with two slots each,
/// scales in by draining, and removes a VM only after its agent reported it drained. A burst of
/// allocations drains the standby, the buffer is restored, and neither scale-in nor an
/// operator's maintenance drain cuts a running session.
@Suite("Closed loop: standby buffer, scaling hook, drain and scale-in", .serialized)
struct ClosedLoopScalingTests {
    static let sessions = [
        "c1a55e00-0000-4000-8000-000000000001", "c1a55e00-0000-4000-8000-000000000002",
        "c1a55e00-0000-4000-8000-000000000003",
    ]

    @Test("a burst drains the standby and the buffer is restored; scale-in and maintenance wait for sessions to end")
    func closedLoop() async throws {
        let directory = try TemporaryDirectory()
        let hookLog = directory.file("scaling.jsonl")
        let operatorTokenFile = directory.file("operator.token")
        try Data("closed-loop-operator-secret-0123456789abcdef\n".utf8).write(
            to: URL(fileURLWithPath: operatorTokenFile))
        let config = directory.file("gsmsd.json")
        let settings: [String: Any] = [
            "operator-token-file": operatorTokenFile,
            "standby-buffers": [
                ["title": "1234", "region": "WestUS", "buffer": 2, "min-vms": 1, "max-vms": 5, "slots-per-vm": 2]
            ],
            "scaling-hook": ["command": "cat >> \(hookLog); echo >> \(hookLog)"],
            "buffer-interval": 0.2,
        ]
        try JSONSerialization.data(withJSONObject: settings).write(to: URL(fileURLWithPath: config))
        let gsms = try await GSMSProcess(titles: ["1234"], arguments: ["--host-timeout", "3", "--config", config])
        let cloud = try TestCloud(gsms: gsms, hookLog: hookLog, operatorTokenFile: operatorTokenFile, slotsPerVM: 2)
        let autoscaler = Task {
            // Bounded: the test ends it; each step is a few requests.
            for _ in 0..<6000 where !Task.isCancelled {
                do { try await cloud.reconcile() } catch {
                    if Task.isCancelled { return }
                    cloud.recordError(error)
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        defer { autoscaler.cancel() }

        func diagnostics() async -> String {
            let buffer = try? await cloud.buffers()
            var text = "buffer: \(String(describing: buffer))\nrequested: \(cloud.requestedVMs)\n"
            text +=
                "vms: \(cloud.vms.map { "\($0.id)\($0.draining ? " (draining)" : "")" }) removed: \(cloud.removed)\n"
            text += "errors: \(cloud.errors.suffix(5))\nviolations: \(cloud.violations)\n"
            text += "gsmsd log:\n\(gsms.log.suffix(3000))\n"
            for vm in cloud.vms { text += "--- \(vm.id):\n\(vm.agent.log.suffix(1500))\n" }
            return text
        }
        func wait(_ what: String, _ condition: () async throws -> Bool) async throws {
            do {
                try await Deadline.waitUntilAsync(what, timeout: .seconds(60), condition)
            } catch {
                throw TestFailure("\(error)\n\(await diagnostics())")
            }
        }
        func waitForBuffer(_ what: String, _ condition: @escaping (StandbyBufferStatus) -> Bool) async throws {
            try await wait(what) {
                guard let buffer = try await cloud.buffers() else { return false }
                return condition(buffer)
            }
        }
        func allocate(_ sessionId: String) async throws -> String {
            var hostId: String?
            try await Deadline.waitUntilAsync("allocating \(sessionId)", timeout: .seconds(60)) {
                let answer = try await gsms.allocate(["sessionId": sessionId])
                hostId = answer.status == 200 ? answer.json["sessionHostId"] as? String : nil
                return hostId != nil
            }
            return try #require(hostId)
        }

        // Whatever fails, the cloud's agents and gsmsd are stopped: none outlives the test.
        do {
            // 1. An empty fleet: gsmsd wants one VM (two slots for a buffer of two); the cloud starts it.
            try await waitForBuffer("the first VM standing by") {
                $0.vms == 1 && $0.standingBy == 2 && $0.wantedVMs == 1
            }

            // 2. A burst takes the whole standby; gsmsd wants more VMs and the cloud brings them up
            //    until two hosts stand by again.
            for sessionId in Self.sessions { _ = try await allocate(sessionId) }
            try await waitForBuffer("the buffer restored after the burst") {
                $0.busy == 3 && $0.standingBy >= 2 && $0.wantedVMs == 3 && $0.vms == 3
            }
            #expect(cloud.requestedVMs.contains(2))
            #expect(cloud.requestedVMs.last == 3)

            // 3. Two sessions end: gsmsd wants two VMs; the cloud drains an idle one and removes it
            //    once drained. The VM holding the third session stays.
            for sessionId in Self.sessions.prefix(2) {
                let (_, game) = try #require(try await cloud.game(holding: sessionId))
                _ = try await game.endSession()
                _ = try await game.ready()
            }
            try await wait("one VM removed after scale-in") {
                cloud.removed.count == 1
            }
            let (busyVM, busyGame) = try #require(try await cloud.game(holding: Self.sessions[2]))
            #expect(!cloud.removed.contains(busyVM.id))

            // 4. Maintenance: the operator drains the VM holding the third session. It keeps playing
            //    (no new session, nothing removed) until its game ends it; then the VM is removed.
            try await cloud.drain(vmId: busyVM.id, deadlineSeconds: 600)
            try await wait("the game told of the drain") {
                try await busyGame.host().drain != nil
            }
            #expect(try await busyGame.session().sessionId == Self.sessions[2])
            #expect(try await busyGame.session().state == .active)
            #expect(!cloud.removed.contains(busyVM.id))
            #expect(!FileManager.default.fileExists(atPath: busyVM.drainedMarker))
            _ = try await busyGame.endSession()
            try await wait("the maintained VM removed once drained") {
                cloud.removed.contains(busyVM.id)
            }

            // 5. Quiet again: one VM, two hosts standing by, and no removal ever cut a session.
            try await waitForBuffer("one VM with two hosts standing by") {
                $0.busy == 0 && $0.vms == 1 && $0.standingBy == 2 && $0.wantedVMs == 1
            }
            #expect(cloud.violations.isEmpty, "\(cloud.violations)")
        } catch {
            autoscaler.cancel()
            await cloud.stopAll()
            try? await gsms.stop()
            throw error
        }
        autoscaler.cancel()
        await cloud.stopAll()
        try await gsms.stop()
    }
}
