import Foundation
import Testing

@testable import KataPulse
@testable import KataPulseSimulator

/// runtime-rs QEMU and Firecracker shims abort when asked for `/metrics` (kata-containers#13708): the agent
/// reads each runtime-rs sandbox's `state.json` first and never asks those.
@Suite struct RuntimeRSGuardTests {
    @Test func theHypervisorTypeComesFromStateJSON() throws {
        let tmp = TemporaryDirectory()
        let simulator = ShimSimulator(configuration: .init(root: tmp.path, sandboxes: 0), group: simulatorGroup)
        let sandbox = SimulatedSandbox(
            id: "sb1", flavor: .rust, fault: nil, socketPath: "\(tmp.path)/sb1/shim-monitor.sock", hypervisor: "qemu")
        mkdir("\(tmp.path)/sb1", 0o755)
        try simulator.writeState(sandbox)
        let written = Array(try Data(contentsOf: URL(fileURLWithPath: "\(tmp.path)/sb1/state.json")))
        #expect(RuntimeRSGuard.hypervisorType(stateJSON: written) == "qemu")
        #expect(
            RuntimeRSGuard.hypervisorType(stateJSON: Array(#"{"hypervisor":{"hypervisor_type":"clh"}}"#.utf8)) == "clh")
        // A file caught half-written, other documents, an empty type.
        #expect(RuntimeRSGuard.hypervisorType(stateJSON: Array(written.prefix(written.count / 2))) == nil)
        #expect(RuntimeRSGuard.hypervisorType(stateJSON: []) == nil)
        #expect(RuntimeRSGuard.hypervisorType(stateJSON: Array(#"{"hypervisor":{}}"#.utf8)) == nil)
        #expect(RuntimeRSGuard.hypervisorType(stateJSON: Array(#"{"hypervisor":{"hypervisor_type":""}}"#.utf8)) == nil)
        #expect(RuntimeRSGuard.hypervisorType(stateJSON: Array(#"[1,2,3]"#.utf8)) == nil)
    }

    @Test func whatIsAskedAndWhatWaits() throws {
        let tmp = TemporaryDirectory()
        let goRoot = tmp.subdirectory("vc")
        let rsRoot = tmp.subdirectory("kata")
        var configuration = RuntimeRSGuard.Configuration()
        configuration.runtimeRSRoots = [rsRoot]
        let guardian = RuntimeRSGuard(configuration: configuration)
        func write(_ path: String, _ text: String) {
            mkdir((path as NSString).deletingLastPathComponent, 0o755)
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        }
        // Go runtime: no state.json, asked.
        #expect(guardian.hold(socketPath: "\(goRoot)/a/shim-monitor.sock") == nil)
        // runtime-rs before its VM started: waits.
        mkdir("\(rsRoot)/b", 0o755)
        guard case .waiting = guardian.hold(socketPath: "\(rsRoot)/b/shim-monitor.sock") else {
            Issue.record("a runtime-rs sandbox without state.json was not held")
            return
        }
        write("\(rsRoot)/b/state.json", #"{"hypervisor":{"hypervisor_type":"dragonball"}}"#)
        #expect(guardian.hold(socketPath: "\(rsRoot)/b/shim-monitor.sock") == nil)
        write("\(rsRoot)/c/state.json", #"{"hypervisor":{"hypervisor_type":"firecracker"}}"#)
        #expect(guardian.hold(socketPath: "\(rsRoot)/c/shim-monitor.sock") == .skipped(hypervisor: "firecracker"))
        // A state.json under another root still counts; a broken one waits.
        write("\(goRoot)/d/state.json", #"{"hypervisor":{"hypervisor_type":"qemu"}}"#)
        #expect(guardian.hold(socketPath: "\(goRoot)/d/shim-monitor.sock") == .skipped(hypervisor: "qemu"))
        write("\(rsRoot)/e/state.json", #"{"hypervisor":{"hyperv"#)
        guard case .waiting = guardian.hold(socketPath: "\(rsRoot)/e/shim-monitor.sock") else {
            Issue.record("a half-written state.json was not held")
            return
        }
        // Nothing skipped: every shim with a known hypervisor is asked.
        configuration.skippedHypervisors = []
        #expect(RuntimeRSGuard(configuration: configuration).hold(socketPath: "\(rsRoot)/c/shim-monitor.sock") == nil)
    }

    /// A node with both runtimes: the QEMU and Firecracker runtime-rs sandboxes survive round after round,
    /// listed as skipped; the others are collected; one whose VM starts later is collected once its state says
    /// Dragonball, without waiting for a round.
    @Test func skippedSandboxesSurviveAndTheOthersAreCollected() async throws {
        let tmp = TemporaryDirectory()
        let goRoot = tmp.subdirectory("vc")
        let rsRoot = tmp.subdirectory("kata")
        let (goSimulator, goSandboxes) = try await startSimulator(
            root: goRoot, sandboxes: 1, ids: ["90000000000000000000000000000001"])
        defer { Task { await goSimulator.stop() } }
        let rsSimulator = ShimSimulator(
            configuration: .init(
                root: rsRoot, sandboxes: 3, flavors: [.rust], hypervisors: ["qemu", "firecracker", "dragonball"]),
            group: simulatorGroup)
        let rsSandboxes = try await rsSimulator.start()
        defer { Task { await rsSimulator.stop() } }
        let late = SimulatedSandbox(
            id: "late0000000000000000000000000001", flavor: .rust, fault: nil,
            socketPath: "\(rsRoot)/late0000000000000000000000000001/shim-monitor.sock", seed: 9,
            hypervisor: "dragonball")
        try await rsSimulator.add(late, writingState: false)
        let agent = try await RunningAgent.start(roots: [goRoot, rsRoot]) {
            $0.collection.runtimeRS.runtimeRSRoots = [rsRoot]
            $0.collection.interval = .milliseconds(300)
        }
        defer { Task { await agent.stop() } }
        let (qemu, firecracker, dragonball, go) = (
            rsSandboxes[0].id, rsSandboxes[1].id, rsSandboxes[2].id, goSandboxes[0].id
        )

        #expect(
            await agent.waitForSnapshot(timeout: .seconds(30)) { snapshot in
                snapshot.sandbox(dragonball)?.isUp == true && snapshot.sandbox(go)?.isUp == true
                    && snapshot.sandbox(qemu)?.status == "skipped" && snapshot.sandbox(late)?.status == "pending"
            })
        // Round after round, nobody asks them.
        #expect(
            await agent.waitForSnapshot(timeout: .seconds(30)) { snapshot in
                let families = (try? ExpositionParser().parse(snapshot.body)) ?? []
                let rounds = families.first { $0.name == "kata_pulse_collection_rounds_total" }?.samples.first?.value
                return (rounds ?? 0) >= 5
            })
        #expect(rsSimulator.abortedSandboxes.isEmpty, "shims killed by scraping: \(rsSimulator.abortedSandboxes)")

        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(try await agent.get("/sandboxes?format=json").body))
                as? [[String: Any]])
        let byID = Dictionary(uniqueKeysWithValues: json.map { ($0["id"] as? String ?? "", $0) })
        #expect(byID[qemu]?["status"] as? String == "skipped")
        #expect(byID[qemu]?["skipped_hypervisor"] as? String == "qemu")
        #expect((byID[qemu]?["last_error"] as? String)?.contains("kata-containers#13708") == true)
        #expect(byID[firecracker]?["status"] as? String == "skipped")
        #expect(byID[dragonball]?["status"] as? String == "up")
        #expect(byID[dragonball]?["skipped_hypervisor"] is NSNull)
        #expect(byID[go]?["status"] as? String == "up")
        #expect(byID[late.id]?["status"] as? String == "pending")

        let families = try ExpositionParser().parse(try await agent.get("/metrics").body)
        let samples = families.flatMap(\.samples)
        let skipped = samples.filter { $0.name == "kata_pulse_sandbox_skipped" }
        #expect(
            Set(skipped.map { "\($0.label("sandbox_id") ?? ""):\($0.label("hypervisor") ?? "")" }) == [
                "\(qemu):qemu", "\(firecracker):firecracker",
            ])
        #expect(skipped.allSatisfy { $0.value == 1 })
        // Neither up nor down, and nothing of theirs collected.
        let up = samples.filter { $0.name == "kata_pulse_sandbox_up" }.compactMap { $0.label("sandbox_id") }
        #expect(Set(up) == [dragonball, go, late.id])
        #expect(!samples.contains { !$0.name.hasPrefix("kata_pulse_") && $0.label("sandbox_id") == qemu })
        #expect(!samples.contains { $0.label("id") == "/kata/\(qemu)" })
        #expect(samples.contains { $0.name == "kata_shim_fds" && $0.label("sandbox_id") == dragonball })
        #expect(try await agent.get("/metrics?sandbox=\(qemu)").status == 503)

        // Its VM starts: state.json names Dragonball, and it is collected.
        try rsSimulator.writeState(late)
        #expect(await agent.waitForSnapshot(timeout: .seconds(30)) { $0.sandbox(late.id)?.isUp == true })
        #expect(rsSimulator.abortedSandboxes.isEmpty)
    }

    /// With nothing skipped, a QEMU runtime-rs shim is asked, and (as upstream) dies of it: the guard is what
    /// keeps it alive.
    @Test func withNothingSkippedTheShimIsAskedAndDies() async throws {
        let tmp = TemporaryDirectory()
        let rsRoot = tmp.subdirectory("kata")
        let simulator = ShimSimulator(
            configuration: .init(root: rsRoot, sandboxes: 1, flavors: [.rust], hypervisors: ["qemu"]),
            group: simulatorGroup)
        let sandboxes = try await simulator.start()
        defer { Task { await simulator.stop() } }
        let agent = try await RunningAgent.start(roots: [rsRoot]) {
            $0.collection.runtimeRS.runtimeRSRoots = [rsRoot]
            $0.collection.runtimeRS.skippedHypervisors = []
        }
        defer { Task { await agent.stop() } }
        #expect(await eventually(timeout: .seconds(30)) { simulator.abortedSandboxes == [sandboxes[0].id] })
        #expect(await agent.waitForSnapshot(timeout: .seconds(30)) { $0.sandbox(sandboxes[0].id)?.status == "failing" })
    }
}

extension Snapshot {
    fileprivate func sandbox(_ sandbox: SimulatedSandbox) -> SandboxRecord? { self.sandbox(sandbox.id) }
}
