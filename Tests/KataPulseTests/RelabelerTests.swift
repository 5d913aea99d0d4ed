import Testing

@testable import KataPulse

@Suite struct RelabelerTests {
    private static let identity = SandboxLabels(
        sandboxID: "sb1", criUID: "uid-1", criName: "pod-1", criNamespace: "default")

    /// The four labels kata-monitor appends, for `identity`.
    private static let appended = [
        Label("sandbox_id", "sb1"), Label("cri_uid", "uid-1"), Label("cri_name", "pod-1"),
        Label("cri_namespace", "default"),
    ]

    private func relabel(_ body: String, with labels: SandboxLabels = Self.identity) throws -> RelabelResult {
        Relabeler.relabel(try ExpositionParser().parse(body), with: labels)
    }

    @Test func sandboxLabelsAreAppendedAfterTheSampleLabelsInKataMonitorOrder() throws {
        let result = try relabel(#"requests{z="1",a="2"} 5"#)
        #expect(result.families.count == 1)
        let sample = try #require(result.families.first?.samples.first)
        #expect(sample.labels == [Label("z", "1"), Label("a", "2")] + Self.appended)
        #expect(sample.value == 5)
        #expect(SandboxLabels.names == ["sandbox_id", "cri_uid", "cri_name", "cri_namespace"])
    }

    @Test func unknownCRIMetadataIsStillWrittenAsEmptyStrings() throws {
        let result = try relabel("up 1", with: SandboxLabels(sandboxID: "abc"))
        #expect(
            result.families.first?.samples.first?.labels == [
                Label("sandbox_id", "abc"), Label("cri_uid", ""), Label("cri_name", ""), Label("cri_namespace", ""),
            ])
    }

    @Test func histogramLeStaysLast() throws {
        let result = try relabel(
            """
            # TYPE lat histogram
            lat_bucket{le="0.5",method="get"} 1
            lat_bucket{method="get",le="+Inf"} 2
            lat_sum{method="get"} 3
            lat_count{method="get"} 2
            """)
        let samples = try #require(result.families.first?.samples)
        #expect(samples[0].labels == [Label("method", "get")] + Self.appended + [Label("le", "0.5")])
        #expect(samples[1].labels == [Label("method", "get")] + Self.appended + [Label("le", "+Inf")])
        #expect(samples[2].labels == [Label("method", "get")] + Self.appended)
        #expect(samples[3].labels == [Label("method", "get")] + Self.appended)
    }

    @Test func summaryQuantileStaysLast() throws {
        let result = try relabel(
            """
            # TYPE gc summary
            gc{quantile="0.5",kind="x"} 1
            gc_sum{kind="x"} 2
            gc_count{kind="x"} 3
            """)
        let samples = try #require(result.families.first?.samples)
        #expect(samples[0].labels == [Label("kind", "x")] + Self.appended + [Label("quantile", "0.5")])
        #expect(samples[1].labels == [Label("kind", "x")] + Self.appended)
    }

    @Test func leAndQuantileOnOtherTypesAreOrdinaryLabels() throws {
        let result = try relabel(
            """
            # TYPE g gauge
            g{le="1",x="y"} 1
            u{quantile="0.9"} 2
            """)
        #expect(
            result.families.first { $0.name == "g" }?.samples.first?.labels == [Label("le", "1"), Label("x", "y")]
                + Self.appended)
        #expect(
            result.families.first { $0.name == "u" }?.samples.first?.labels == [Label("quantile", "0.9")]
                + Self.appended)
    }

    @Test func shimLabelsWithReservedOrInternalNamesAreDroppedNotDuplicated() throws {
        let result = try relabel(
            #"m{sandbox_id="fake",a="1",cri_uid="u",__meta="x",cri_name="n",cri_namespace="ns",__name__="m"} 1"#)
        let labels = try #require(result.families.first?.samples.first?.labels)
        #expect(labels == [Label("a", "1")] + Self.appended)
        #expect(Set(labels.map(\.name)).count == labels.count)
    }

    @Test func goAndProcessFamiliesAreRenamed() throws {
        let result = try relabel(
            """
            # HELP go_goroutines Number of goroutines that currently exist.
            # TYPE go_goroutines gauge
            go_goroutines 12
            # TYPE go_gc_duration_seconds summary
            go_gc_duration_seconds{quantile="0"} 1e-05
            go_gc_duration_seconds_sum 0.1
            go_gc_duration_seconds_count 4
            # TYPE process_cpu_seconds_total counter
            process_cpu_seconds_total 1.5
            kata_shim_rpc 1
            going_up 1
            processes 2
            """)
        #expect(
            result.families.map(\.name) == [
                "going_up", "kata_shim_go_gc_duration_seconds", "kata_shim_go_goroutines",
                "kata_shim_process_cpu_seconds_total",
                "kata_shim_rpc", "processes",
            ])
        let gc = try #require(result.families.first { $0.name == "kata_shim_go_gc_duration_seconds" })
        #expect(
            gc.samples.map(\.name) == [
                "kata_shim_go_gc_duration_seconds", "kata_shim_go_gc_duration_seconds_sum",
                "kata_shim_go_gc_duration_seconds_count",
            ])
        #expect(gc.type == .summary)
        let goroutines = try #require(result.families.first { $0.name == "kata_shim_go_goroutines" })
        #expect(goroutines.help == "Number of goroutines that currently exist.")
        #expect(goroutines.samples.map(\.name) == ["kata_shim_go_goroutines"])
        #expect(Relabeler.renamed("go_x") == "kata_shim_go_x")
        #expect(Relabeler.renamed("process_x") == "kata_shim_process_x")
        #expect(Relabeler.renamed("gox") == "gox")
        #expect(Relabeler.renamed("kata_shim_go_x") == "kata_shim_go_x")
    }

    @Test func duplicateSeriesAreDroppedAndCounted() throws {
        let result = try relabel(
            """
            m{a="1",b="2"} 1
            m{a="1",b="2"} 2
            m{b="2",a="1"} 3
            m{a="1",b="3"} 4
            """)
        let samples = try #require(result.families.first?.samples)
        #expect(samples.map(\.value) == [1, 4])
        #expect(result.duplicateSeries == 2)
        #expect(result.reservedFamilySamples == 0)
    }

    @Test func seriesThatOnlyDifferedByDroppedLabelsAreDuplicates() throws {
        let result = try relabel(
            """
            m 1
            m{sandbox_id="other"} 2
            m{__internal="x"} 3
            """)
        #expect(result.families.first?.samples.map(\.value) == [1])
        #expect(result.duplicateSeries == 2)
    }

    @Test func duplicateHistogramBucketsWithReorderedLabelsAreDropped() throws {
        let result = try relabel(
            """
            # TYPE h histogram
            h_bucket{a="x",le="1"} 1
            h_bucket{le="1",a="x"} 9
            h_bucket{a="x",le="2"} 2
            """)
        #expect(result.families.first?.samples.map(\.value) == [1, 2])
        #expect(result.duplicateSeries == 1)
    }

    @Test func reservedFamiliesAreDroppedAndCounted() throws {
        let result = try relabel(
            """
            kata_monitor_running_shim_count 5
            # TYPE kata_pulse_sandbox_up gauge
            kata_pulse_sandbox_up 1
            kata_pulse_sandbox_up{x="y"} 1
            kata_monitoring 1
            ok 1
            """)
        #expect(result.families.map(\.name) == ["kata_monitoring", "ok"])
        #expect(result.reservedFamilySamples == 3)
        #expect(result.duplicateSeries == 0)
        #expect(Relabeler.reservedPrefixes == ["kata_monitor_", "kata_pulse_", "container_"])
    }

    @Test func shimEmittingBothGoAndRenamedFamiliesEndsWithOne() throws {
        let result = try relabel(
            """
            # HELP go_threads Number of OS threads created.
            # TYPE go_threads gauge
            go_threads 7
            # TYPE kata_shim_go_threads gauge
            kata_shim_go_threads 8
            """)
        #expect(result.families.map(\.name) == ["kata_shim_go_threads"])
        let samples = try #require(result.families.first?.samples)
        #expect(samples.count == 1)
        #expect(samples.first?.name == "kata_shim_go_threads")
        #expect(result.duplicateSeries + result.reservedFamilySamples == 1)
        // The rendered result has exactly one TYPE line for the family.
        let text = String(decoding: ExpositionRenderer.render(result.families), as: UTF8.self)
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE kata_shim_go_threads ") }.count == 1)
        #expect(try ExpositionParser().parse(text).count == 1)
    }

    @Test func shimEmittingTheRenamedFamilyFirstAlsoEndsWithOne() throws {
        let result = try relabel(
            """
            kata_shim_process_open_fds 3
            process_open_fds 4
            """)
        #expect(result.families.map(\.name) == ["kata_shim_process_open_fds"])
        #expect(result.families.first?.samples.map(\.value) == [3])
    }

    @Test func outputIsSortedByName() throws {
        let result = try relabel("zz 1\nb 1\ngo_a 1\naa 1\nB 1\nprocess_q 1\n")
        let names = result.families.map(\.name)
        #expect(names == ["B", "aa", "b", "kata_shim_go_a", "kata_shim_process_q", "zz"])
        #expect(names == names.sorted())
    }

    @Test func familyTypesHelpAndValuesAreKept() throws {
        let result = try relabel(
            """
            # HELP c A counter.
            # TYPE c counter
            c NaN
            # TYPE g gauge
            g -Inf
            """)
        #expect(result.families.map(\.type) == [.counter, .gauge])
        #expect(result.families.map(\.help) == ["A counter.", nil])
        #expect(result.families[0].samples[0].value.isNaN)
        #expect(result.families[1].samples[0].value == -.infinity)
    }

    @Test func distinctSeriesWithControlBytesInValuesAreNotCollapsed() throws {
        // The parser accepts any byte inside quotes, NUL and U+0001 included; these two series differ.
        let families = [
            MetricFamily(
                name: "m",
                samples: [
                    Sample(name: "m", labels: [Label("a", "x"), Label("b", "y")], value: 1),
                    Sample(name: "m", labels: [Label("a", "x\u{0}b\u{1}y")], value: 2),
                ])
        ]
        let result = Relabeler.relabel(families, with: Self.identity)
        #expect(result.families.first?.samples.map(\.value) == [1, 2])
        #expect(result.duplicateSeries == 0)
    }

    @Test func familiesNamedGoOrProcessKeepTheirSampleNames() throws {
        // Only the family decides the rename: a summary `go` keeps `go_sum`, which still belongs to it.
        let result = try relabel(
            """
            # TYPE go summary
            go_sum 1
            go_count 2
            # TYPE process histogram
            process_bucket{le="+Inf"} 1
            # TYPE go_x summary
            go_x_sum 3
            """)
        #expect(result.families.map(\.name) == ["go", "kata_shim_go_x", "process"])
        #expect(
            result.families.flatMap(\.samples).map(\.name) == [
                "go_sum", "go_count", "kata_shim_go_x_sum", "process_bucket",
            ])
        let body = RenderedSandbox(id: "sb1", families: result.families).body
        #expect(try ExpositionParser().parse(body) == result.families)
    }

    @Test func emptyInputGivesAnEmptyResult() {
        let result = Relabeler.relabel([], with: Self.identity)
        #expect(result == RelabelResult(families: [], duplicateSeries: 0, reservedFamilySamples: 0))
    }

    @Test func identityValuesAreEscapedWhenRendered() throws {
        let nasty = SandboxLabels(sandboxID: "sb", criUID: "u", criName: "pod\"} 1\nx", criNamespace: "ns\\")
        let result = try relabel("m 1", with: nasty)
        let bytes = ExpositionRenderer.render(result.families)
        #expect(bytes.filter { $0 == 0x0A }.count == 2)
        let parsed = try ExpositionParser().parse(bytes)
        #expect(parsed.first?.samples.first?.labels.first { $0.name == "cri_name" }?.value == "pod\"} 1\nx")
    }

    @Test func relabelledSeriesAreUniqueAcrossARealisticBody() throws {
        let result = try relabel(
            """
            # TYPE go_gc_duration_seconds summary
            go_gc_duration_seconds{quantile="0"} 1
            go_gc_duration_seconds{quantile="1"} 2
            go_gc_duration_seconds_sum 3
            go_gc_duration_seconds_count 4
            # TYPE kata_hypervisor_fds gauge
            kata_hypervisor_fds 21
            # TYPE kata_agent_io_stat gauge
            kata_agent_io_stat{item="rchar"} 1
            kata_agent_io_stat{item="wchar"} 2
            """)
        var seen: Set<String> = []
        for family in result.families {
            for sample in family.samples {
                let key =
                    sample.name + "|"
                    + sample.labels.sorted { $0.name < $1.name }.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
                #expect(seen.insert(key).inserted, "duplicate \(key)")
            }
        }
        #expect(seen.count == 7)
    }
}
