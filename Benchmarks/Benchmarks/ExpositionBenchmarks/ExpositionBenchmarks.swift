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

    // What a round does for each sandbox: read the body and write its published rendering in one pass.
    var kataOnly = Collector.Configuration()
    kataOnly.exposition = .kata
    Benchmark("parse+relabel+render (\(body.count) bytes)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try Collector.rendering(of: body, labels: identity, configuration: kataOnly, now: 1))
        }
    }

    let everything = Collector.Configuration()
    Benchmark("parse+relabel+cadvisor+render (\(body.count) bytes)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try Collector.rendering(of: body, labels: identity, configuration: everything, now: 1))
        }
    }

    // The same shim scraped every 15 s, as a round sees it: values move, series stay, so each body after the
    // first is published from the previous one's shape (BodyShape).
    let shim = SimulatedShimBody(sandboxID: "benchmark", flavor: .go, seed: 7)
    let consecutive = (0..<8).map { shim.render(elapsed: 3_600 + Double($0) * 15) }
    // The benchmark calls its closure once per sample (an iteration each): the round's state lives outside it.
    let round = ConsecutiveRound()
    Benchmark("parse+relabel+cadvisor+render, consecutive bodies (\(body.count) bytes)") { benchmark in
        for _ in benchmark.scaledIterations {
            let body = consecutive[round.next % consecutive.count]
            round.next += 1
            blackHole(
                try Collector.rendering(
                    of: body, labels: identity, configuration: everything, now: 1, shape: &round.shape))
        }
    }

    let sandboxes: [SandboxRecord] = (0..<110).map { index in
        let id = "sandbox-\(index)"
        var record = SandboxRecord(id: id)
        record.rendered = try! Collector.rendering(
            of: SimulatedShimBody(sandboxID: id, flavor: .go, seed: UInt64(index)).render(elapsed: 3_600),
            labels: SandboxLabels(sandboxID: id), configuration: kataOnly, now: 1)
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

/// What a round keeps for a sandbox between its bodies: the last body's shape, and which body comes next.
final class ConsecutiveRound {
    var shape: BodyShape?
    var next = 0
}
