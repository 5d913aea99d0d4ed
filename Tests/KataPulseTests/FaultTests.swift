import Testing

@testable import KataPulse
@testable import KataPulseSimulator

/// Each simulator fault against a running agent: the other sandboxes are still served in full, the body
/// stays valid, and the bad sandbox is counted.
@Suite struct FaultTests {
    @Test(arguments: SimulatedFault.allCases)
    func faultySandboxIsIsolated(fault: SimulatedFault) async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        let (simulator, sandboxes) = try await startSimulator(root: root, sandboxes: 3, faults: [(fault, 1)])
        let faulty = sandboxes[0].id
        let healthy = sandboxes.dropFirst().map(\.id)
        let expected: ScrapeFailureReason? =
            switch fault {
            case .hang, .slow: .timeout
            case .garbage: .parse
            case .huge: .bodyTooLarge
            case .reset: .read
            case .status500: .httpStatus
            case .bomb: .limit
            case .conflict, .inject, .duplicate: nil
            }
        let agent = try await RunningAgent.start(roots: [root])
        // On a loaded machine a first attempt can time out instead; rounds repeat every 2 s.
        let collected = await agent.waitForSnapshot { snapshot in
            snapshot.sandboxes.count == 3 && snapshot.sandboxes.allSatisfy { $0.lastAttempt != nil }
                && snapshot.sandbox(faulty)?.lastFailure == expected
                && healthy.allSatisfy { snapshot.sandbox($0)?.isUp == true }
        }
        let states = agent.agent.store.snapshot.sandboxes.map {
            "\($0.id.prefix(8)) attempt=\($0.lastAttempt ?? -1) \($0.lastError ?? "ok")"
        }
        #expect(collected, "sandboxes: \(states)")
        let body = try await agent.get("/metrics").body
        let families = try ExpositionParser().parse(body)
        let keys = seriesKeys(families)
        #expect(Set(keys).count == keys.count, "duplicate series")
        #expect(!String(decoding: body, as: UTF8.self).contains("__x"))

        // Healthy sandboxes: every sample of theirs is in the merged output.
        for id in healthy {
            let own = try ExpositionParser().parse(try await agent.get("/metrics?sandbox=\(id)").body)
            // Its kata-monitor series (the container_* ones carry id, not sandbox_id).
            let ownCount = own.flatMap(\.samples).filter { $0.label("sandbox_id") == id }.count
            let merged = families.filter { !$0.name.hasPrefix("kata_pulse_") }.flatMap(\.samples)
                .filter { $0.labels.contains(Label("sandbox_id", id)) }.count
            #expect(ownCount > 500)
            #expect(merged == ownCount, "sandbox \(id) lost samples in the merged output")
            let ownContainer = own.flatMap(\.samples).filter { $0.label("id") == "/kata/\(id)" }.count
            let mergedContainer = families.flatMap(\.samples).filter { $0.label("id") == "/kata/\(id)" }.count
            #expect(ownContainer > 30)
            #expect(mergedContainer == ownContainer, "sandbox \(id) lost cAdvisor samples")
        }

        let snapshot = agent.agent.store.snapshot
        let record = try #require(snapshot.sandbox(faulty))
        switch fault {
        case .conflict:
            #expect(record.isUp)
            #expect(snapshot.typeConflicts == 1)
            let threads = try #require(families.first { $0.name == "kata_shim_threads" })
            #expect(threads.type == .gauge)
            #expect(!threads.samples.contains { $0.labels.contains(Label("sandbox_id", faulty)) })
        case .inject:
            #expect(record.isUp)
            let hostile = families.flatMap(\.samples).filter { $0.labels.contains(Label("sandbox_id", faulty)) }
            #expect(hostile.allSatisfy { $0.labels.filter { $0.name == "sandbox_id" }.count == 1 })
            #expect(hostile.contains { $0.labels.contains { $0.value.contains("\n") || $0.value.contains("\"") } })
        case .duplicate:
            #expect(record.isUp)
            let dropped = try #require(families.first { $0.name == "kata_pulse_dropped_samples_total" })
            #expect(dropped.samples.first { $0.labels == [Label("reason", "duplicate_series")] }?.value ?? 0 >= 1)
            #expect(dropped.samples.first { $0.labels == [Label("reason", "reserved_name")] }?.value ?? 0 >= 1)
            let repeated = families.first { $0.name == "kata_guest_repeated" }?.samples ?? []
            #expect(repeated.count == 1, "the repeated series once")
            let up = try #require(families.first { $0.name == "kata_pulse_sandbox_up" })
            #expect(
                up.samples.allSatisfy { $0.label("sandbox_id") != nil }, "the shim's kata_pulse_sandbox_up left out")
        default:
            #expect(!record.isUp)
            let up = try #require(families.first { $0.name == "kata_pulse_sandbox_up" })
            #expect(up.samples.first { $0.labels.contains(Label("sandbox_id", faulty)) }?.value == 0)
            let errors = try #require(families.first { $0.name == "kata_pulse_shim_scrape_errors_total" })
            let reason = try #require(expected)
            #expect(errors.samples.first { $0.labels == [Label("reason", reason.rawValue)] }?.value ?? 0 >= 1)
        }
        await agent.stop()
        await simulator.stop()
    }

    @Test func removedSandboxLeavesTheSnapshotAtOnce() async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        let (simulator, sandboxes) = try await startSimulator(root: root, sandboxes: 2)
        let agent = try await RunningAgent.start(roots: [root]) { $0.collection.interval = .seconds(3600) }
        #expect(await agent.waitForSnapshot { $0.sandboxes.count == 2 && $0.sandboxes.allSatisfy(\.isUp) })
        await simulator.remove(sandboxes[0].id)
        // At once: well within the hour-long interval (10 s of slack for a loaded 2-core machine).
        #expect(await agent.waitForSnapshot(timeout: .seconds(10)) { $0.sandboxes.map(\.id) == [sandboxes[1].id] })
        let body = String(decoding: try await agent.get("/metrics").body, as: UTF8.self)
        #expect(!body.contains(sandboxes[0].id))
        // A new sandbox is collected soon after it appears, not at the next (hour-long) interval.
        let newcomer = SimulatedSandbox(
            id: "newcomer", flavor: .rust, fault: nil, socketPath: "\(root)/newcomer/shim-monitor.sock", seed: 9)
        try await simulator.add(newcomer)
        #expect(await agent.waitForSnapshot(timeout: .seconds(5)) { $0.sandbox("newcomer")?.isUp == true })
        await agent.stop()
        await simulator.stop()
    }

    @Test func failedRoundKeepsLastGoodSamples() async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        let (simulator, sandboxes) = try await startSimulator(root: root, sandboxes: 1)
        let agent = try await RunningAgent.start(roots: [root]) { $0.collection.interval = .seconds(1) }
        #expect(await agent.waitForSnapshot { $0.sandboxes.first?.isUp == true })
        let samplesBefore = agent.agent.store.snapshot.sandboxes[0].rendered?.sampleCount ?? 0
        // Replace the shim with a failing one under the same id: the socket goes, the directory stays.
        let id = sandboxes[0].id
        await simulator.remove(id, removeDirectory: false)
        try await simulator.add(
            SimulatedSandbox(id: id, flavor: .go, fault: .status500, socketPath: sandboxes[0].socketPath))
        #expect(await agent.waitForSnapshot { $0.sandboxes.first?.lastFailure == .httpStatus })
        let record = agent.agent.store.snapshot.sandboxes[0]
        #expect(record.rendered?.sampleCount == samplesBefore)
        #expect(record.lastSuccess != nil)
        let body = String(decoding: try await agent.get("/metrics").body, as: UTF8.self)
        #expect(body.contains("kata_shim_threads{sandbox_id=\"\(id)\""))
        await agent.stop()
        await simulator.stop()
    }
}
