import Testing

@testable import KataPulse
@testable import KataPulseSimulator

/// A round publishes as it goes, so the sandboxes collected early in a round are served before its slowest
/// shim answers (and their previous renderings are freed meanwhile).
@Suite struct RoundPublicationTests {
    @Test func sandboxesCollectedEarlyInARoundAreServedWhileAHungShimHoldsItsDeadline() async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        let (simulator, sandboxes) = try await startSimulator(root: root, sandboxes: 12, faults: [(.hang, 1)])
        let hung = sandboxes[0].id
        let healthy = sandboxes.dropFirst().map(\.id)
        let agent = try await RunningAgent.start(roots: [root]) { configuration in
            configuration.collection.concurrency = 2
            configuration.collection.interval = .seconds(120)
            configuration.shim.timeout = .seconds(60)
        }
        // Two shims at a time, one of them hung for a minute: a round publishes every quarter of its
        // sandboxes, so at least 8 of the 11 healthy ones are served while the hung one is still being asked
        // (without interim publication none would be until its deadline).
        func served(_ snapshot: Snapshot) -> Int { healthy.filter { snapshot.sandbox($0)?.isUp == true }.count }
        let early = await agent.waitForSnapshot(timeout: .seconds(30)) { snapshot in
            snapshot.sandbox(hung)?.lastAttempt == nil && served(snapshot) >= 8
        }
        #expect(early, "served before the hung shim's deadline: \(served(agent.agent.store.snapshot)) of 11")
        let body = try await agent.text("/metrics")
        let families = try ExpositionParser().parse(Array(body.utf8))
        let up = try #require(families.first { $0.name == "kata_pulse_sandbox_up" })
        let upCount = up.samples.filter { $0.value == 1 }.count
        #expect(upCount >= 8)
        #expect(healthy.filter { body.contains("kata_shim_threads{sandbox_id=\"\($0)\"") }.count >= 8)
        #expect(agent.agent.store.snapshot.sandbox(hung)?.lastAttempt == nil)
        await agent.stop()
        await simulator.stop()
    }
}
