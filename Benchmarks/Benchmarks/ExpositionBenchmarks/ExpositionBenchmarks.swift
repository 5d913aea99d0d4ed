import Benchmark
import KataPulse
import KataPulseSimulator

/// The hot path of a collection round, on a Go-shim body as the simulator renders it (the families,
/// label sets and size of `shared/fixtures/shim-go-runtime.prom`).
let benchmarks: @Sendable () -> Void = {
    let body = SimulatedShimBody(sandboxID: "benchmark", flavor: .go, seed: 7).render(elapsed: 3_600)
    let identity = SandboxLabels(sandboxID: String(repeating: "a", count: 64))
    let parser = ExpositionParser()

    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput, .peakMemoryResident],
        scalingFactor: .one,
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )

    Benchmark("parse (\(body.count) bytes)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try parser.parse(body))
        }
    }

    Benchmark("parse+relabel+render (\(body.count) bytes)") { benchmark in
        for _ in benchmark.scaledIterations {
            let families = try parser.parse(body)
            let relabelled = Relabeler.relabel(families, with: identity)
            blackHole(RenderedSandbox(id: identity.sandboxID, families: relabelled.families))
        }
    }

    let disks = try! DiskFilter()
    Benchmark("parse+relabel+cadvisor+render (\(body.count) bytes)") { benchmark in
        for _ in benchmark.scaledIterations {
            let families = try parser.parse(body)
            var published = Relabeler.relabel(families, with: identity).families
            published += CadvisorMapper.map(
                families, identity: CadvisorIdentity(sandboxID: identity.sandboxID), disks: disks, now: 1)
            published.sort { $0.name < $1.name }
            blackHole(RenderedSandbox(id: identity.sandboxID, families: published))
        }
    }

    let sandboxes: [SandboxRecord] = (0..<110).map { index in
        let id = "sandbox-\(index)"
        var record = SandboxRecord(id: id)
        let families = try! parser.parse(
            SimulatedShimBody(sandboxID: id, flavor: .go, seed: UInt64(index)).render(elapsed: 3_600))
        record.rendered = RenderedSandbox(
            id: id, families: Relabeler.relabel(families, with: SandboxLabels(sandboxID: id)).families)
        record.lastAttempt = 1
        record.lastSuccess = 1
        return record
    }
    Benchmark(
        "snapshot build, 110 sandboxes (merge+gzip)", configuration: .init(maxDuration: .seconds(5), maxIterations: 20)
    ) {
        benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(SnapshotBuilder().build(sandboxes: sandboxes, statistics: CollectionStatistics(), now: 1))
        }
    }
}
