import Testing

@testable import KataPulse

@Suite struct SnapshotBuilderTests {
    /// A sandbox whose shim answered `body`, relabelled and rendered as the collector does.
    private func collected(_ id: String, _ body: String, at time: Double = 1_000) throws -> SandboxRecord {
        let metadata = PodMetadata(uid: "uid-\(id)", name: "pod-\(id)", namespace: "ns")
        let relabelled = Relabeler.relabel(try ExpositionParser().parse(body), with: metadata.labels(sandboxID: id))
        var record = SandboxRecord(id: id, metadata: metadata)
        record.socketPath = "/run/vc/sbs/\(id)/shim-monitor.sock"
        record.rendered = RenderedSandbox(id: id, families: relabelled.families)
        record.lastAttempt = time
        record.lastSuccess = time
        return record
    }

    /// A sandbox whose last attempt failed and that never succeeded.
    private func failed(_ id: String, reason: ScrapeFailureReason = .connect) -> SandboxRecord {
        var record = SandboxRecord(id: id)
        record.lastAttempt = 1_000
        record.lastFailure = reason
        record.lastError = "connection refused"
        return record
    }

    private func build(
        _ sandboxes: [SandboxRecord], statistics: CollectionStatistics = CollectionStatistics(), now: Double = 2_000
    ) -> Snapshot {
        SnapshotBuilder(version: "9.9.9-test").build(sandboxes: sandboxes, statistics: statistics, now: now)
    }

    private func text(_ snapshot: Snapshot) -> String {
        String(decoding: snapshot.body, as: UTF8.self)
    }

    private func lines(_ snapshot: Snapshot) -> [Substring] {
        text(snapshot).split(separator: "\n")
    }

    private func family(_ name: String, in snapshot: Snapshot) throws -> MetricFamily {
        let families = try ExpositionParser().parse(snapshot.body)
        return try #require(families.first { $0.name == name }, "no family \(name)")
    }

    private func value(of label: String, in sample: Sample) -> String? {
        sample.labels.first { $0.name == label }?.value
    }

    /// A canonical series identity: name and labels sorted by name.
    private func seriesKey(_ sample: Sample) -> String {
        sample.name + "{"
            + sample.labels.sorted { $0.name < $1.name }.map { "\($0.name)=\($0.value.debugDescription)" }.joined(
                separator: ",")
            + "}"
    }

    private static let shimA = """
        # HELP go_goroutines Number of goroutines that currently exist.
        # TYPE go_goroutines gauge
        go_goroutines 12
        # HELP kata_hypervisor_fds Open FDs for hypervisor.
        # TYPE kata_hypervisor_fds gauge
        kata_hypervisor_fds 21
        # HELP kata_shim_rpc_durations_histogram_milliseconds RPC latency distributions.
        # TYPE kata_shim_rpc_durations_histogram_milliseconds histogram
        kata_shim_rpc_durations_histogram_milliseconds_bucket{action="create",le="1"} 0
        kata_shim_rpc_durations_histogram_milliseconds_bucket{action="create",le="+Inf"} 1
        kata_shim_rpc_durations_histogram_milliseconds_sum{action="create"} 31
        kata_shim_rpc_durations_histogram_milliseconds_count{action="create"} 1
        # TYPE go_gc_duration_seconds summary
        go_gc_duration_seconds{quantile="0"} 1.2e-05
        go_gc_duration_seconds{quantile="1"} 0.000512337
        go_gc_duration_seconds_sum 0.0015
        go_gc_duration_seconds_count 9

        """

    private static let shimB = """
        # HELP kata_hypervisor_fds Open FDs for hypervisor (B).
        # TYPE kata_hypervisor_fds gauge
        kata_hypervisor_fds 33
        # TYPE go_goroutines gauge
        go_goroutines 7
        # TYPE kata_agent_only_in_b counter
        kata_agent_only_in_b{item="x"} 4
        kata_agent_only_in_b{item="y"} 5

        """

    // MARK: - Merging

    @Test func mergingTwoSandboxesWritesOneHeaderPerFamilyAndGroupsSamplesBySandbox() throws {
        let snapshot = build([try collected("aaa", Self.shimA), try collected("bbb", Self.shimB)])
        let all = lines(snapshot)
        for name in ["kata_hypervisor_fds", "kata_shim_go_goroutines"] {
            #expect(all.filter { $0.hasPrefix("# TYPE \(name) ") }.count == 1, "TYPE of \(name)")
            #expect(all.filter { $0.hasPrefix("# HELP \(name) ") }.count == 1, "HELP of \(name)")
        }
        // HELP comes from the first sandbox (by id) that has it.
        #expect(all.contains("# HELP kata_hypervisor_fds Open FDs for hypervisor."))
        let fds = try family("kata_hypervisor_fds", in: snapshot)
        #expect(fds.samples.map { value(of: "sandbox_id", in: $0) } == ["aaa", "bbb"])
        #expect(fds.samples.map(\.value) == [21, 33])
        let onlyB = try family("kata_agent_only_in_b", in: snapshot)
        #expect(onlyB.type == .counter)
        #expect(onlyB.samples.count == 2)
    }

    @Test func samplesFollowSandboxIdOrderWhateverTheirPositionInTheBody() throws {
        let records = try ["s1", "s2", "s3", "s4"].map { try collected($0, "m{x=\"1\"} 1\nm{x=\"2\"} 2\n") }
        let snapshot = build(records)
        let m = try family("m", in: snapshot)
        #expect(m.samples.map { value(of: "sandbox_id", in: $0)! } == ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"])
        #expect(m.samples.map { value(of: "x", in: $0)! } == ["1", "2", "1", "2", "1", "2", "1", "2"])
    }

    @Test func sandboxFamiliesAreSortedAfterTheOwnFamilies() throws {
        let snapshot = build([try collected("aaa", Self.shimA), try collected("bbb", Self.shimB)])
        let names = snapshot.families.map(\.name)
        let ownCount = names.prefix { $0.hasPrefix("kata_monitor_") || $0.hasPrefix("kata_pulse_") }.count
        let sandboxNames = Array(names[ownCount...])
        #expect(
            sandboxNames == [
                "kata_agent_only_in_b", "kata_hypervisor_fds", "kata_shim_go_gc_duration_seconds",
                "kata_shim_go_goroutines",
                "kata_shim_rpc_durations_histogram_milliseconds",
            ])
        #expect(sandboxNames == sandboxNames.sorted())
        // Parsed order matches the spans.
        let parsed = try ExpositionParser().parse(snapshot.body)
        #expect(parsed.map(\.name) == names)
    }

    @Test func sandboxFamilyNamesSortingBeforeOwnNamesStillComeAfterThem() throws {
        let snapshot = build([try collected("aaa", "aardvark 1\nzebra 2\n")])
        let names = snapshot.families.map(\.name)
        #expect(names.first == "kata_monitor_scrape_durations_histogram_milliseconds")
        #expect(names.suffix(2) == ["aardvark", "zebra"])
    }

    // MARK: - TYPE conflicts

    @Test func typeConflictMajorityWinsAndOnlyTheDisagreeingSandboxLosesThatFamily() throws {
        let records = [
            try collected("a", "# TYPE kata_edge counter\nkata_edge 1\n# TYPE common gauge\ncommon 10\n"),
            try collected(
                "b", "# HELP kata_edge Edge (b).\n# TYPE kata_edge gauge\nkata_edge 2\n# TYPE common gauge\ncommon 20\n"
            ),
            try collected("c", "# TYPE kata_edge gauge\nkata_edge 3\n# TYPE common gauge\ncommon 30\n"),
        ]
        let snapshot = build(records)
        #expect(snapshot.typeConflicts == 1)
        let edge = try family("kata_edge", in: snapshot)
        #expect(edge.type == .gauge)
        #expect(edge.help == "Edge (b).")
        #expect(edge.samples.map { value(of: "sandbox_id", in: $0) } == ["b", "c"])
        // The conflicting sandbox keeps its other families.
        let common = try family("common", in: snapshot)
        #expect(common.samples.map(\.value) == [10, 20, 30])
        let conflicts = try family("kata_pulse_type_conflicts", in: snapshot)
        #expect(conflicts.samples.map(\.value) == [1])
        #expect(conflicts.type == .gauge)
        // Sandbox a is still up and its samples are still counted.
        let up = try family("kata_pulse_sandbox_up", in: snapshot)
        #expect(up.samples.map(\.value) == [1, 1, 1])
    }

    @Test func typeConflictTieGoesToTheFirstSandboxById() throws {
        let records = [
            try collected("a", "# TYPE kata_edge counter\nkata_edge 1\n"),
            try collected("b", "# TYPE kata_edge gauge\nkata_edge 2\n"),
        ]
        let snapshot = build(records)
        let edge = try family("kata_edge", in: snapshot)
        #expect(edge.type == .counter)
        #expect(edge.samples.map { value(of: "sandbox_id", in: $0) } == ["a"])
        #expect(snapshot.typeConflicts == 1)
    }

    @Test func typeConflictsAreCountedPerSandboxAndFamily() throws {
        let records = [
            try collected("a", "# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\n"),
            try collected("b", "# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\n"),
            try collected("c", "# TYPE x counter\nx 1\n# TYPE y counter\ny 1\n"),
            try collected("d", "# TYPE x untyped\nx 1\n"),
        ]
        let snapshot = build(records)
        #expect(snapshot.typeConflicts == 3)
        #expect(try family("x", in: snapshot).samples.count == 2)
        #expect(try family("y", in: snapshot).samples.count == 2)
    }

    // MARK: - Sandboxes without metrics

    @Test func sandboxWithoutMetricsOnlyAppearsInTheOwnFamilies() throws {
        let snapshot = build([try collected("aaa", Self.shimB), failed("bbb")])
        let parsed = try ExpositionParser().parse(snapshot.body)
        let up = try #require(parsed.first { $0.name == "kata_pulse_sandbox_up" })
        #expect(up.samples.map { value(of: "sandbox_id", in: $0) } == ["aaa", "bbb"])
        #expect(up.samples.map(\.value) == [1, 0])
        #expect(
            up.samples[1].labels == [
                Label("sandbox_id", "bbb"), Label("cri_uid", ""), Label("cri_name", ""), Label("cri_namespace", ""),
            ])
        let samples = try #require(parsed.first { $0.name == "kata_pulse_sandbox_samples" })
        #expect(samples.samples.map(\.value) == [4, 0])
        // Only sandbox aaa has a last success.
        let success = try #require(parsed.first { $0.name == "kata_pulse_sandbox_last_success_timestamp_seconds" })
        #expect(success.samples.map { value(of: "sandbox_id", in: $0) } == ["aaa"])
        // No sandbox family carries bbb.
        for family in parsed where !family.name.hasPrefix("kata_pulse_") && !family.name.hasPrefix("kata_monitor_") {
            #expect(family.samples.allSatisfy { value(of: "sandbox_id", in: $0) == "aaa" }, "\(family.name)")
        }
    }

    @Test func sandboxNeverAttemptedIsDown() throws {
        let snapshot = build([SandboxRecord(id: "new")])
        let up = try family("kata_pulse_sandbox_up", in: snapshot)
        #expect(up.samples.map(\.value) == [0])
        #expect(snapshot.runningShimCount == 1)
    }

    @Test func failedRoundKeepsTheLastGoodMetricsButReportsDown() throws {
        var record = try collected("aaa", "kata_hypervisor_threads 5\n")
        record.lastAttempt = 1_500
        record.lastFailure = .timeout
        let snapshot = build([record])
        #expect(try family("kata_hypervisor_threads", in: snapshot).samples.map(\.value) == [5])
        #expect(try family("kata_pulse_sandbox_up", in: snapshot).samples.map(\.value) == [0])
        #expect(
            try family("kata_pulse_sandbox_last_success_timestamp_seconds", in: snapshot).samples.map(\.value) == [
                1_000
            ])
    }

    // MARK: - Own families

    @Test func ownFamiliesComeFirstWithTheScrapeHistogramLeading() throws {
        var statistics = CollectionStatistics()
        for milliseconds in [0.0, 1, 3, 3, 100, 700] { statistics.shimDurations.observe(milliseconds) }
        let snapshot = build([try collected("aaa", Self.shimA)], statistics: statistics)
        let names = snapshot.families.map(\.name)
        #expect(names.first == "kata_monitor_scrape_durations_histogram_milliseconds")
        let ownCount = names.prefix { $0.hasPrefix("kata_monitor_") || $0.hasPrefix("kata_pulse_") }.count
        #expect(names[1..<ownCount].allSatisfy { $0.hasPrefix("kata_pulse_") })
        #expect(!names[ownCount...].contains { $0.hasPrefix("kata_pulse_") || $0.hasPrefix("kata_monitor_") })

        let histogram = try family("kata_monitor_scrape_durations_histogram_milliseconds", in: snapshot)
        #expect(histogram.type == .histogram)
        #expect(histogram.help == "Time used to scrape from shims")
        let buckets = histogram.samples.filter { $0.name.hasSuffix("_bucket") }
        #expect(
            buckets.map { value(of: "le", in: $0) } == [
                "1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "+Inf",
            ])
        #expect(buckets.map(\.value) == [2, 2, 4, 4, 4, 4, 4, 5, 5, 5, 6])
        #expect(histogram.samples.first { $0.name.hasSuffix("_sum") }?.value == 807)
        #expect(histogram.samples.first { $0.name.hasSuffix("_count") }?.value == 6)
        // The histogram is the very first thing in the body.
        let head = """
            # HELP kata_monitor_scrape_durations_histogram_milliseconds Time used to scrape from shims
            # TYPE kata_monitor_scrape_durations_histogram_milliseconds histogram
            kata_monitor_scrape_durations_histogram_milliseconds_bucket{le="1"} 2

            """
        #expect(text(snapshot).hasPrefix(head))
    }

    @Test func statisticsArePublished() throws {
        var statistics = CollectionStatistics()
        statistics.rounds = 42
        statistics.lastRoundDurationSeconds = 0.25
        statistics.lastRoundEnd = 1_700_000_000.5
        statistics.intervalSeconds = 15
        statistics.scrapeErrors[.timeout] = 3
        statistics.scrapeErrors[.parse] = 1
        statistics.duplicateSeriesDropped = 7
        statistics.reservedFamilySamplesDropped = 2
        let snapshot = build([], statistics: statistics)
        let parsed = try ExpositionParser().parse(snapshot.body)
        func only(_ name: String) -> MetricFamily? { parsed.first { $0.name == name } }

        #expect(
            only("kata_pulse_build_info")?.samples == [
                Sample(name: "kata_pulse_build_info", labels: [Label("version", "9.9.9-test")], value: 1)
            ])
        #expect(only("kata_pulse_collection_rounds_total")?.samples.map(\.value) == [42])
        #expect(only("kata_pulse_collection_rounds_total")?.type == .counter)
        #expect(only("kata_pulse_collection_round_duration_seconds")?.samples.map(\.value) == [0.25])
        #expect(only("kata_pulse_last_collection_timestamp_seconds")?.samples.map(\.value) == [1_700_000_000.5])
        // Alerts compare the round's duration and the last round's age with the interval.
        #expect(only("kata_pulse_collection_interval_seconds")?.samples.map(\.value) == [15])
        #expect(only("kata_pulse_collection_interval_seconds")?.type == .gauge)
        let dropped = try #require(only("kata_pulse_dropped_samples_total"))
        #expect(dropped.samples.map { value(of: "reason", in: $0) } == ["duplicate_series", "reserved_name"])
        #expect(dropped.samples.map(\.value) == [7, 2])
        let errors = try #require(only("kata_pulse_shim_scrape_errors_total"))
        let reasons = errors.samples.map { value(of: "reason", in: $0)! }
        #expect(reasons == ScrapeFailureReason.allCases.map(\.rawValue).sorted())
        #expect(errors.samples.first { value(of: "reason", in: $0) == "timeout" }?.value == 3)
        #expect(errors.samples.first { value(of: "reason", in: $0) == "parse" }?.value == 1)
        #expect(errors.samples.filter { $0.value == 0 }.count == ScrapeFailureReason.allCases.count - 2)
        // No sandboxes: the per-sandbox families are left out entirely.
        #expect(only("kata_pulse_sandbox_up") == nil)
        #expect(only("kata_pulse_sandbox_samples") == nil)
        #expect(only("kata_pulse_sandbox_last_success_timestamp_seconds") == nil)
    }

    @Test func lastCollectionTimestampIsOmittedBeforeTheFirstRound() throws {
        let snapshot = build([])
        #expect(!snapshot.families.contains { $0.name == "kata_pulse_last_collection_timestamp_seconds" })
        #expect(snapshot.typeConflicts == 0)
    }

    @Test func requestFamiliesKeepKataMonitorNamesAndHelp() throws {
        let families = OwnMetrics.requestFamilies(runningShimCount: 3, scrapeCount: 10, scrapeFailedCount: 1)
        #expect(families.map(\.name) == OwnMetrics.requestFamilyNames)
        #expect(
            families.map(\.name) == [
                "kata_monitor_running_shim_count", "kata_monitor_scrape_count", "kata_monitor_scrape_failed_count",
            ])
        #expect(
            families.map(\.help) == ["Running shim count(running sandboxes).", "Scape count.", "Failed scape count."])
        #expect(families.map(\.type) == [.gauge, .counter, .counter])
        #expect(families.map { $0.samples.map(\.value) } == [[3], [10], [1]])
        #expect(families.allSatisfy { $0.samples.allSatisfy(\.labels.isEmpty) })
    }

    // MARK: - Body integrity

    @Test func wholeBodyParsesAndEverySeriesIsUnique() throws {
        var statistics = CollectionStatistics()
        statistics.lastRoundEnd = 5
        statistics.shimDurations.observe(2)
        let records = [
            try collected("aaa", Self.shimA), try collected("bbb", Self.shimB), failed("ccc"),
            try collected("ddd", Self.shimA + "extra{a=\"1\"} 1\n"),
        ]
        let snapshot = build(records, statistics: statistics)
        let parsed = try ExpositionParser().parse(snapshot.body)
        #expect(Set(parsed.map(\.name)).count == parsed.count)
        var seen: Set<String> = []
        for family in parsed {
            for sample in family.samples {
                #expect(seen.insert(seriesKey(sample)).inserted, "duplicate series \(seriesKey(sample))")
            }
        }
        #expect(seen.count > 30)
        // Each family is written exactly once with one TYPE line.
        let typeLines = lines(snapshot).filter { $0.hasPrefix("# TYPE ") }
        #expect(typeLines.count == parsed.count)
    }

    @Test func familySpansSliceTheBodyExactly() throws {
        let snapshot = build([try collected("aaa", Self.shimA), try collected("bbb", Self.shimB), failed("ccc")])
        let body = snapshot.body
        var joined: [UInt8] = []
        var expectedStart = 0
        for span in snapshot.families {
            #expect(span.parts.lowerBound == expectedStart, "\(span.name)")
            #expect(!span.parts.isEmpty)
            let slice = snapshot.bytes(of: span)
            joined += slice
            expectedStart = span.parts.upperBound
            // Each span is a whole family on its own, starting with its header.
            let alone = try ExpositionParser().parse(slice)
            #expect(alone.map(\.name) == [span.name])
            let help = Array("# HELP \(span.name) ".utf8)
            let type = Array("# TYPE \(span.name) ".utf8)
            #expect(slice.starts(with: help) || slice.starts(with: type))
        }
        #expect(joined == body)
        #expect(expectedStart == snapshot.parts.count)
        #expect(snapshot.bodyLength == body.count)
        #expect(Array(snapshot.plainBody.readableBytesView) == body)
        #expect(Set(snapshot.families.map(\.name)).count == snapshot.families.count)
    }

    @Test func deflatedBodyDecompressesToTheBody() throws {
        let snapshot = build([try collected("aaa", Self.shimA), try collected("bbb", Self.shimB)])
        #expect(snapshot.deflatedBody.isFinal)
        #expect(snapshot.deflatedBody.length == snapshot.body.count)
        let gzip = Gzip.member([snapshot.deflatedBody])
        #expect(Gzip.decompress(gzip) == snapshot.body)
    }

    @Test func requestLinesCanBePrependedToTheCompressedBody() throws {
        let snapshot = build([try collected("aaa", Self.shimA)])
        let request = ExpositionRenderer.render(
            OwnMetrics.requestFamilies(
                runningShimCount: snapshot.runningShimCount, scrapeCount: 1, scrapeFailedCount: 0))
        let gzip = Gzip.member([DeflateSegment(compressing: request, isFinal: false), snapshot.deflatedBody])
        let plain = try #require(Gzip.decompress(gzip))
        #expect(plain == request + snapshot.body)
        let parsed = try ExpositionParser().parse(plain)
        #expect(parsed.first?.name == "kata_monitor_running_shim_count")
        #expect(parsed.first?.samples.first?.value == 1)
    }

    @Test func snapshotKeepsSandboxesAndTime() throws {
        let records = [try collected("aaa", Self.shimA), failed("bbb")]
        let snapshot = build(records, now: 1234.5)
        #expect(snapshot.sandboxes.map(\.id) == ["aaa", "bbb"])
        #expect(snapshot.sandbox("aaa")?.rendered != nil)
        #expect(snapshot.sandbox("bbb")?.lastFailure == .connect)
        #expect(snapshot.sandbox("zzz") == nil)
        #expect(snapshot.runningShimCount == 2)
        #expect(snapshot.builtAt == 1234.5)
    }

    @Test func emptySnapshotIsAValidBody() throws {
        let snapshot = Snapshot.empty(now: 7)
        #expect(snapshot.builtAt == 7)
        #expect(snapshot.sandboxes.isEmpty)
        #expect(snapshot.runningShimCount == 0)
        let parsed = try ExpositionParser().parse(snapshot.body)
        #expect(parsed.first?.name == "kata_monitor_scrape_durations_histogram_milliseconds")
        #expect(parsed.allSatisfy { $0.name.hasPrefix("kata_monitor_") || $0.name.hasPrefix("kata_pulse_") })
        #expect(parsed.map(\.name) == snapshot.families.map(\.name))
        #expect(Gzip.decompress(Gzip.member([snapshot.deflatedBody])) == snapshot.body)
        let build = try #require(parsed.first { $0.name == "kata_pulse_build_info" })
        #expect(build.samples.first?.labels == [Label("version", KataPulseVersion.string)])
    }

    @Test func compressionLevelDoesNotChangeTheContent() throws {
        let records = [try collected("aaa", Self.shimA)]
        let fast = SnapshotBuilder(compressionLevel: 1).build(
            sandboxes: records, statistics: CollectionStatistics(), now: 1)
        let best = SnapshotBuilder(compressionLevel: 9).build(
            sandboxes: records, statistics: CollectionStatistics(), now: 1)
        #expect(fast.body == best.body)
        #expect(Gzip.decompress(Gzip.member([fast.deflatedBody])) == fast.body)
        #expect(Gzip.decompress(Gzip.member([best.deflatedBody])) == best.body)
    }

    // MARK: - RenderedSandbox

    @Test func renderedSandboxIsAStandaloneExpositionWithExactSampleRanges() throws {
        let labels = SandboxLabels(sandboxID: "aaa")
        let relabelled = Relabeler.relabel(try ExpositionParser().parse(Self.shimA), with: labels).families
        let rendered = RenderedSandbox(id: "aaa", families: relabelled + [MetricFamily(name: "zz_empty", type: .gauge)])
        #expect(rendered.id == "aaa")
        // Families without samples are left out.
        #expect(rendered.families.map(rendered.name(of:)) == relabelled.map(\.name))
        #expect(try ExpositionParser().parse(rendered.body) == relabelled)
        #expect(rendered.sampleCount == relabelled.reduce(0) { $0 + $1.samples.count })
        #expect(rendered.sampleCount == 10)
        for (renderedFamily, family) in zip(rendered.families, relabelled) {
            #expect(renderedFamily.hasHelp == (family.help != nil))
            #expect(renderedFamily.type == family.type)
            #expect(renderedFamily.sampleCount == family.samples.count)
            var lines: [UInt8] = []
            ExpositionRenderer.appendSamples(family.samples, to: &lines)
            #expect(Array(rendered.sampleLines(of: renderedFamily).readableBytesView) == lines)
            var header: [UInt8] = []
            ExpositionRenderer.appendHeader(name: family.name, help: family.help, type: family.type, to: &header)
            #expect(Array(rendered.header(of: renderedFamily).readableBytesView) == header)
        }
    }
}
