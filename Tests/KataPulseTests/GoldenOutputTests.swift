import Foundation
import KataPulseSimulator
import Testing

@testable import KataPulse

/// The published bytes for fixed inputs, compared with a committed copy: changes to how the snapshot is stored
/// or served must not change one byte of what users read.
///
/// Regenerate (only for a deliberate change of output) with
/// `KATA_PULSE_UPDATE_GOLDEN=1 swift test --filter GoldenOutputTests`.
@Suite struct GoldenOutputTests {
    static let goldenURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("golden/published-output.txt.gz")

    /// Six sandboxes of every flavor: with and without pod metadata and container rows, hostile label values, a TYPE
    /// conflict, one failing and one never reached.
    static func records() throws -> [SandboxRecord] {
        var configuration = Collector.Configuration()
        configuration.cadvisor.vmContainer = nil
        var records: [SandboxRecord] = []
        let flavors: [(ShimFlavor, Bool)] = [(.go, true), (.rust, true), (.go, false), (.rust, false)]
        for (index, (flavor, withMetadata)) in flavors.enumerated() {
            let id = String(repeating: String(index), count: 8) + "-golden"
            let metadata =
                withMetadata
                ? PodMetadata(
                    uid: "uid-\(index)", name: "pod-\(index)", namespace: "team-\(index % 2)",
                    createdAt: 1_764_000_000.25 + Double(index))
                : nil
            var record = SandboxRecord(id: id, metadata: metadata)
            let simulated = SimulatedShimBody(sandboxID: id, flavor: flavor, seed: UInt64(40 + index))
            let body =
                index == 3
                ? simulated.conflictBody(elapsed: 3_600)
                : index == 2 ? simulated.injectBody(elapsed: 3_600) : simulated.render(elapsed: 3_600)
            record.rendered = try Collector.published(
                body, for: Collector.CollectionTarget(record), configuration: configuration, now: 1_764_003_600.5
            ).rendering
            if index == 0 {
                let usage = ContainerUsage(
                    container: .init(
                        id: "c0ffee", sandboxID: id, name: "app", image: "registry.example/app:1",
                        createdAt: 1_764_000_001),
                    stats: .init(
                        cpuNanoseconds: 13_246_000_001, workingSetBytes: 50_331_648, usageBytes: 60_000_000,
                        rssBytes: 40_000_000, pageFaults: 1234, majorPageFaults: 5, swapBytes: 0,
                        writableLayerBytes: 4096, writableLayerMountpoint: "/var/lib/containerd"))
                record.containers = RenderedSandbox(
                    id: id,
                    families: CadvisorContainerMapper.map(
                        [usage], sandboxID: id, namespace: record.labels.criNamespace, pod: record.labels.criName,
                        now: 1_764_003_601),
                    labels: record.labels)
            }
            record.socketPath = "/run/vc/sbs/\(id)/shim-monitor.sock"
            record.lastAttempt = 1_764_003_600.5
            record.lastSuccess = 1_764_003_600.5
            records.append(record)
        }
        var failing = SandboxRecord(id: "failing-golden")
        failing.lastAttempt = 1_764_003_600.5
        failing.lastFailure = .connect
        failing.lastError = "connection refused"
        records.append(failing)
        records.append(SandboxRecord(id: "pending-golden"))
        return records.sorted { $0.id < $1.id }
    }

    /// Every published form, one section each.
    static func published() throws -> [UInt8] {
        let records = try records()
        var statistics = CollectionStatistics()
        statistics.rounds = 7
        statistics.lastRoundDurationSeconds = 0.125
        statistics.lastRoundEnd = 1_764_003_600.5
        statistics.scrapeErrors[.connect] = 3
        for milliseconds in [1.0, 3, 3, 40, 700] { statistics.shimDurations.observe(milliseconds) }
        let snapshot = SnapshotBuilder(version: "9.9.9-golden").build(
            sandboxes: records, statistics: statistics, now: 1_764_003_601)
        var out: [UInt8] = []
        func section(_ name: String, _ bytes: [UInt8]) {
            out += Array("=== \(name) (\(bytes.count) bytes)\n".utf8)
            out += bytes
        }
        section("snapshot body", snapshot.body)
        section("snapshot gzip, decompressed", Gzip.decompress(Gzip.member([snapshot.deflatedBody])) ?? [])
        for record in records {
            if let rendered = record.rendered { section("sandbox \(record.id)", rendered.body) }
        }
        section("export, all", ExportBody.render(snapshot, exposition: .all))
        section("export, kata", ExportBody.render(snapshot, exposition: [.kata]))
        section("export, cadvisor", ExportBody.render(snapshot, exposition: [.cadvisor]))
        return out
    }

    @Test func publishedBytesAreTheCommittedOnes() throws {
        let actual = try Self.published()
        if ProcessInfo.processInfo.environment["KATA_PULSE_UPDATE_GOLDEN"] == "1" {
            try Data(Gzip.compress(actual)).write(to: Self.goldenURL)
            return
        }
        let golden = try #require(Gzip.decompress(Array(try Data(contentsOf: Self.goldenURL))))
        guard actual != golden else { return }
        let actualLines = actual.split(separator: 0x0A, omittingEmptySubsequences: false)
        let goldenLines = golden.split(separator: 0x0A, omittingEmptySubsequences: false)
        let first =
            zip(actualLines, goldenLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(actualLines.count, goldenLines.count)
        let show = { (lines: [ArraySlice<UInt8>]) in
            first < lines.count ? String(decoding: lines[first], as: UTF8.self) : "(end)"
        }
        Issue.record(
            "output differs from Tests/golden/published-output.txt.gz at line \(first + 1):\n  now:    \(show(actualLines))\n  golden: \(show(goldenLines))"
        )
    }
}
