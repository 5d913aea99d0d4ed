import Testing

@testable import KataPulse
@testable import KataPulseSimulator

/// A sandbox collected before its pod metadata arrived, relabelled from its kept series: the same bytes as
/// if it had been collected with the metadata.
@Suite struct RelabellingTests {
    private let id = "4c1d0a6b9e3f4e2a8b7c6d5e4f3a2b1c"

    private func rendered(_ labels: SandboxLabels, startTime: Double?, vmContainer: String? = nil) throws
        -> RenderedSandbox
    {
        let body = SimulatedShimBody(sandboxID: id, flavor: .go, seed: 7).render(elapsed: 42)
        var configuration = Collector.Configuration()
        configuration.cadvisor.vmContainer = vmContainer
        let target = Collector.CollectionTarget(id: id, labels: labels, startTime: startTime)
        return try Collector.published(body, for: target, configuration: configuration, now: 1_764_000_100).rendering
    }

    @Test(arguments: [nil, "vm"])
    func relabelledIsWhatCollectingWithTheMetadataRenders(vmContainer: String?) throws {
        let unknown = SandboxLabels(sandboxID: id)
        let known = PodMetadata(uid: "uid-1", name: "web-0", namespace: "team-a").labels(sandboxID: id)
        let before = try rendered(unknown, startTime: nil, vmContainer: vmContainer)
        let expected = try rendered(known, startTime: 1_764_000_000.5, vmContainer: vmContainer)
        let relabelled = before.relabelled(to: known, startTime: 1_764_000_000.5)
        #expect(relabelled.labels == known)
        #expect(relabelled.families == expected.families)
        #expect(String(decoding: relabelled.body, as: UTF8.self) == String(decoding: expected.body, as: UTF8.self))
        #expect(String(decoding: relabelled.body, as: UTF8.self).contains("container_start_time_seconds{"))

        // And back: the pod gone from the runtime's list, its labels and start time go too.
        let forgotten = relabelled.relabelled(to: unknown, startTime: nil)
        #expect(forgotten.body == before.body)
    }

    @Test func onlyTheKataFamiliesOrOnlyTheCadvisorRows() throws {
        let known = PodMetadata(uid: "uid-1", name: "web-0", namespace: "team-a").labels(sandboxID: id)
        for set in [ExpositionSet.kata, .cadvisor] {
            var configuration = Collector.Configuration()
            configuration.exposition = set
            let body = SimulatedShimBody(sandboxID: id, flavor: .go, seed: 7).render(elapsed: 42)
            let render = { (labels: SandboxLabels, startTime: Double?) throws in
                let target = Collector.CollectionTarget(id: self.id, labels: labels, startTime: startTime)
                return try Collector.published(body, for: target, configuration: configuration, now: 1_764_000_100)
                    .rendering
            }
            let relabelled = try render(SandboxLabels(sandboxID: id), nil).relabelled(to: known, startTime: 5)
            #expect(try relabelled.body == render(known, 5).body, "\(set)")
        }
    }
}
