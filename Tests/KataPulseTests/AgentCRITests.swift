import Foundation
import Testing

@testable import KataPulse
@testable import KataPulseCRI

/// A running agent with a CRI runtime: pod metadata on every series, in `/sandboxes`, and an outage that
/// costs nothing but fresh metadata.
@Suite struct AgentCRITests {
    /// Sandbox JSON objects from `/sandboxes?format=json`, by id.
    private func sandboxJSON(_ agent: RunningAgent) async throws -> [String: [String: Any]] {
        let body = try await agent.get("/sandboxes?format=json").body
        let array = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: array.map { ($0["id"] as? String ?? "", $0) })
    }

    private func value(_ families: [MetricFamily], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        families.first { $0.name == name }?.samples.first { sample in
            labels.allSatisfy { sample.label($0.key) == $0.value }
        }?.value
    }

    @Test func seriesCarryThePodMetadata() async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        let (simulator, sandboxes) = try await startSimulator(root: root, sandboxes: 2)
        defer { Task { await simulator.stop() } }
        let known = sandboxes[0].id
        let unknown = sandboxes[1].id
        let server = TestCRIServer(socketPath: "\(tmp.path)/cri.sock")
        server.addSandbox(
            id: known, uid: "7c9e6679-7425-40de-944b-e07fc1f90ae7", name: "web-0", namespace: "team-a",
            createdAt: 1_764_000_000_500_000_000)
        try await server.start()
        defer { Task { await server.stop() } }
        // One round an hour: labels must arrive without waiting for a round.
        let agent = try await RunningAgent.start(
            roots: [root], cri: CRIClient.Configuration(socketPath: server.socketPath, timeout: .seconds(20))
        ) {
            $0.collection.interval = .seconds(3600)
        }
        defer { Task { await agent.stop() } }
        let labelled = await agent.waitForSnapshot(timeout: .seconds(30)) { snapshot in
            snapshot.sandbox(known)?.rendered != nil && snapshot.sandbox(unknown)?.rendered != nil
                && String(decoding: snapshot.sandbox(known)?.rendered?.body ?? [], as: UTF8.self).contains(
                    "cri_name=\"web-0\"")
        }
        #expect(labelled)
        let families = try ExpositionParser().parse(try await agent.get("/metrics").body)
        let samples = families.flatMap(\.samples)

        let kata = samples.filter { $0.label("sandbox_id") == known }
        #expect(kata.count > 500)
        #expect(
            kata.allSatisfy {
                $0.label("cri_uid") == "7c9e6679-7425-40de-944b-e07fc1f90ae7" && $0.label("cri_name") == "web-0"
                    && $0.label("cri_namespace") == "team-a"
            })
        let cadvisor = samples.filter { $0.label("id") == "/kata/\(known)" }
        #expect(cadvisor.count > 30)
        #expect(cadvisor.allSatisfy { $0.label("namespace") == "team-a" && $0.label("pod") == "web-0" })
        #expect(value(families, "container_start_time_seconds", ["id": "/kata/\(known)"]) == 1_764_000_000.5)

        // Not known to the runtime: empty labels, no start time, pending.
        #expect(samples.filter { $0.label("sandbox_id") == unknown }.allSatisfy { $0.label("cri_name") == "" })
        #expect(value(families, "container_start_time_seconds", ["id": "/kata/\(unknown)"]) == nil)
        #expect(value(families, "kata_pulse_sandbox_metadata_pending") == 1)
        #expect(value(families, "kata_pulse_cri_up") == 1)
        #expect((value(families, "kata_pulse_cri_calls_total", ["method": "ListPodSandbox"]) ?? 0) >= 1)

        let json = try await sandboxJSON(agent)
        let metadata = try #require(json[known]?["metadata"] as? [String: Any])
        #expect(metadata["name"] as? String == "web-0")
        #expect(metadata["namespace"] as? String == "team-a")
        #expect(metadata["runtime_handler"] as? String == "kata")
        #expect(metadata["state"] as? String == "ready")
        #expect(metadata["created_at"] as? Double == 1_764_000_000.5)
        #expect(metadata["pending"] as? Bool == false)
        let pending = try #require(json[unknown]?["metadata"] as? [String: Any])
        #expect(pending["pending"] as? Bool == true)
        #expect(pending["runtime_handler"] is NSNull)
    }

    @Test func anOutageKeepsTheKnownMetadataAndTheReturnIsNoticed() async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        let (simulator, sandboxes) = try await startSimulator(root: root, sandboxes: 1)
        defer { Task { await simulator.stop() } }
        let id = sandboxes[0].id
        let server = TestCRIServer(socketPath: "\(tmp.path)/cri.sock")
        server.addSandbox(id: id, uid: "uid-1", name: "web-0", namespace: "team-a")
        try await server.start()
        let agent = try await RunningAgent.start(
            roots: [root], cri: CRIClient.Configuration(socketPath: server.socketPath, timeout: .seconds(20))
        ) {
            $0.collection.interval = .seconds(1)
            $0.metadata.resyncInterval = .seconds(1)
        }
        defer { Task { await agent.stop() } }
        #expect(await agent.waitForSnapshot(timeout: .seconds(30)) { $0.sandbox(id)?.labels.criName == "web-0" })

        await server.stop()
        let down = await agent.waitForSnapshot(timeout: .seconds(30)) { snapshot in
            String(decoding: snapshot.body, as: UTF8.self).contains("kata_pulse_cri_up 0\n")
        }
        #expect(down)
        // Still collected, still labelled.
        let rounds = agent.agent.store.snapshot
        #expect(rounds.sandbox(id)?.isUp == true)
        #expect(String(decoding: try await agent.get("/metrics").body, as: UTF8.self).contains("cri_name=\"web-0\""))
        #expect(agent.agent.criHealth?.problem?.hasPrefix("CRI unreachable at \(server.socketPath)") == true)

        // Back with a renamed pod (a new sandbox for the same id, as after a node reboot in a test).
        let restarted = TestCRIServer(socketPath: server.socketPath)
        restarted.addSandbox(id: id, uid: "uid-2", name: "web-1", namespace: "team-a")
        try await restarted.start()
        defer { Task { await restarted.stop() } }
        let noticed = await agent.waitForSnapshot(timeout: .seconds(30)) { snapshot in
            let body = String(decoding: snapshot.body, as: UTF8.self)
            return body.contains("kata_pulse_cri_up 1\n") && body.contains("cri_name=\"web-1\"")
                && !body.contains("cri_name=\"web-0\"")
        }
        #expect(noticed)
        #expect(agent.agent.criHealth?.problem == nil)
    }

    /// Pod labels that arrive after a sandbox was collected: each snapshot shows every series of a sandbox
    /// (kata families, cAdvisor rows, the agent's own per-sandbox families) under one set of labels.
    @Test func metadataArrivingLaterSwitchesEverySeriesOfASandboxAtOnce() async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        let (simulator, sandboxes) = try await startSimulator(root: root, sandboxes: 3)
        defer { Task { await simulator.stop() } }
        let server = TestCRIServer(socketPath: "\(tmp.path)/cri.sock")
        try await server.start()
        defer { Task { await server.stop() } }
        // No round in the test's time: the labels must come from the metadata alone.
        let agent = try await RunningAgent.start(
            roots: [root], cri: CRIClient.Configuration(socketPath: server.socketPath, timeout: .seconds(20))
        ) {
            $0.collection.interval = .seconds(3600)
        }
        defer { Task { await agent.stop() } }
        let ids = sandboxes.map(\.id)
        #expect(
            await agent.waitForSnapshot(timeout: .seconds(30)) { snapshot in
                ids.allSatisfy { snapshot.sandbox($0)?.rendered != nil }
            })
        for (index, id) in ids.enumerated() {
            server.addSandbox(id: id, uid: "uid-\(index)", name: "web-\(index)", namespace: "team-a")
        }
        // The pod name each sandbox's series carry in one body, as a set: more than one is a mix.
        func podNames(_ body: [UInt8]) throws -> [String: Set<String>] {
            var names: [String: Set<String>] = [:]
            for sample in try ExpositionParser().parse(body).flatMap(\.samples) {
                if let id = sample.label("sandbox_id") {
                    names[id, default: []].insert(sample.label("cri_name") ?? "<none>")
                } else if let id = sample.label("id"), id.hasPrefix("/kata/") {
                    names[String(id.dropFirst(6)), default: []].insert(sample.label("pod") ?? "<none>")
                }
            }
            return names
        }
        var mixes: [String] = []
        var bodies = 0
        var arrived = false
        let deadline = ContinuousClock.now + .seconds(30)
        while !arrived && ContinuousClock.now < deadline {
            // Every snapshot the store holds, and what a client is served.
            for body in [agent.agent.store.snapshot.body, try await agent.get("/metrics").body] {
                bodies += 1
                let names = try podNames(body)
                for id in ids where (names[id]?.count ?? 0) != 1 {
                    mixes.append("\(id): \(names[id]?.sorted() ?? [])")
                }
                arrived = ids.enumerated().allSatisfy { names[$0.element] == ["web-\($0.offset)"] }
            }
        }
        #expect(arrived, "the pod labels never arrived")
        #expect(mixes.isEmpty, "a sandbox under two label sets in one body: \(mixes.prefix(3))")
        #expect(bodies > 2)
        // What is kept carries the labels it is published with.
        #expect(agent.agent.store.snapshot.sandboxes.allSatisfy { $0.rendered?.labels == $0.labels })
    }

}
