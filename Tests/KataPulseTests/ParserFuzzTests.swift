import Testing

@testable import KataPulse
@testable import KataPulseSimulator

@Suite struct ParserFuzzTests {
    /// Bytes that matter to the text format, so random input reaches past the first token.
    private static let interestingBytes =
        Array("# HELPTYPE{}=\",\\\n\r\t _:az09.+-eEInfNaN".utf8) + [0x00, 0x80, 0xC3, 0xFF]

    /// A valid body of over a hundred lines that uses every construct the parser knows, shaped like a shim's:
    /// many small families, each with HELP and TYPE. (A debug build parses about 5 MB/s, 5–15 µs a line, so
    /// this size keeps 2,000 mutations, each parsed and round-tripped, near a second of CPU per 500.)
    private static let validBody: [UInt8] = {
        var lines = ["# A leading comment that is not HELP or TYPE.", ""]
        for family in 0..<16 {
            let name = "go_f\(family)_bytes"
            // Escapes in a few HELP texts only: the point is many small families.
            lines.append(family % 8 == 0 ? #"# HELP \#(name) B \\ \n."# : "# HELP \(name) Bytes.")
            lines.append("# TYPE \(name) \(family % 3 == 0 ? "counter" : "gauge")")
            lines.append("\(name) \(family * 1_048_576 + 17)")
        }
        for family in 0..<4 {
            let name = "kata_f\(family)"
            lines.append("# HELP \(name) Labelled.")
            lines.append("# TYPE \(name) gauge")
            for series in 0..<4 {
                let escaped = #"v\"\#(series)\"\\n\n"#
                lines.append(#"\#(name){id="\#(series)",e="\#(escaped)",__x="y"} \#(series).5"#)
            }
        }
        lines.append("# TYPE kata_fuzz_values gauge")
        for (index, value) in ["NaN", "+Inf", "-Inf", "1e-05", "1.5E+10", "-0", "2.304632e+06"].enumerated() {
            lines.append("kata_fuzz_values{k=\"日本 \(index)\",} \(value) 1700000000\(index)")
        }
        for family in 0..<2 {
            let name = "kata_h\(family)"
            lines.append("# HELP \(name) A histogram.")
            lines.append("# TYPE \(name) histogram")
            for bound in ["0.005", "0.1", "1", "+Inf"] {
                lines.append(#"\#(name)_bucket{m="get",le="\#(bound)"} \#(bound.count)"#)
            }
            lines.append(#"\#(name)_sum{m="get"} 12.5"#)
            lines.append(#"\#(name)_count{m="get"} 4"#)
        }
        lines.append("# HELP go_gc_duration_seconds A summary of GC pauses.")
        lines.append("# TYPE go_gc_duration_seconds summary")
        for quantile in ["0", "0.25", "0.5", "0.75", "1"] {
            lines.append("go_gc_duration_seconds{quantile=\"\(quantile)\"} \(quantile)e-03")
        }
        lines.append("go_gc_duration_seconds_sum 0.01")
        lines.append("go_gc_duration_seconds_count 42")
        lines.append("")
        lines.append("   # indented comment")
        for index in 0..<8 {
            lines.append("untyped_fuzz_\(index % 4):sub{a=\"\(index)\"}\t\(index).25")
        }
        // A CRLF tail.
        var text = lines.joined(separator: "\n") + "\n"
        for index in 0..<4 {
            text += "crlf_fuzz{n=\"\(index)\"} \(index)\r\n"
        }
        return Array(text.utf8)
    }()

    /// The parsed families with labels named `__*` removed: the renderer never writes those.
    private static func withoutInternalLabels(_ families: [MetricFamily]) -> [MetricFamily] {
        families.map { family in
            var copy = family
            copy.samples = family.samples.map { sample in
                Sample(
                    name: sample.name, labels: sample.labels.filter { !$0.name.hasPrefix("__") }, value: sample.value)
            }
            return copy
        }
    }

    private static func seriesKey(_ sample: Sample) -> [String] {
        [sample.name] + sample.labels.sorted { $0.name < $1.name }.flatMap { [$0.name, $0.value] }
    }

    /// The input as a Swift literal, shortened for failure messages.
    private static func describe(_ input: [UInt8]) -> String {
        let text = String(decoding: input.prefix(400), as: UTF8.self).debugDescription
        return input.count > 400 ? text + "… (\(input.count) bytes)" : text
    }

    /// The first family that differs between two parses, for failure messages.
    private static func firstDifference(_ lhs: [MetricFamily], _ rhs: [MetricFamily]) -> String {
        for (left, right) in zip(lhs, rhs) where left != right {
            return "\(left) became \(right)"
        }
        return "\(lhs.count) families became \(rhs.count)"
    }

    /// What a batch of inputs did.
    private struct Outcome {
        var parsed = 0
        var rejected = 0
        var failures: [String] = []

        /// Parses `input`; whatever parses must survive render → parse and, when `relabelling`, what the
        /// collector does with it (relabel → render → parse, with no duplicate series).
        mutating func check(_ input: [UInt8], relabelling: Bool = true) {
            let parser = ExpositionParser()
            let families: [MetricFamily]
            do {
                families = try parser.parse(input)
            } catch {
                if relabelling { checkCollector(input) }
                rejected += 1
                var lineCount = 1
                for byte in input where byte == 0x0A { lineCount += 1 }
                if error.line < 1 || error.line > lineCount || error.message.isEmpty {
                    fail("error \(error) outside 1...\(lineCount) for \(describe(input))")
                }
                return
            }
            parsed += 1
            let rendered = ExpositionRenderer.render(families)
            do {
                let again = try parser.parse(rendered)
                let expected = withoutInternalLabels(families)
                if again != expected {
                    fail("round trip of \(describe(input)): \(firstDifference(expected, again))")
                }
            } catch {
                fail("rendered output rejected (\(error)) for \(describe(input)) rendered as \(describe(rendered))")
            }
            guard relabelling else { return }
            let relabelled = Relabeler.relabel(families, with: SandboxLabels(sandboxID: "fuzz", criName: "p\"\\\n"))
            let sandbox = RenderedSandbox(id: "fuzz", families: relabelled.families)
            do {
                let again = try ExpositionParser(limits: ExpositionLimits(maxLabelsPerSeries: 64)).parse(sandbox.body)
                var seen: Set<[String]> = []
                for sample in again.flatMap(\.samples) where !seen.insert(seriesKey(sample)).inserted {
                    fail("duplicate series \(sample) after relabelling \(describe(input))")
                }
            } catch {
                fail("relabelled body rejected (\(error)) for \(describe(input))")
            }
            checkCollector(input)
        }

        /// The collector's one-pass rendering must be the reference pipeline's, and reject what it rejects.
        mutating func checkCollector(_ input: [UInt8]) {
            let target = Collector.CollectionTarget(
                id: "fuzz", labels: SandboxLabels(sandboxID: "fuzz", criName: "p\"\\\n"), startTime: 1.5)
            if let difference = ReferencePipeline.difference(input, for: target, configuration: .init()) {
                fail("collector and model differ for \(describe(input)): \(difference)")
            }
        }

        mutating func fail(_ message: String) {
            if failures.count < 5 { failures.append(message) } else if failures.count == 5 { failures.append("…") }
        }
    }

    @Test func validBodyIsLargeAndParses() throws {
        let lineCount = Self.validBody.filter { $0 == 0x0A }.count
        #expect(lineCount >= 120)
        let families = try ExpositionParser().parse(Self.validBody)
        #expect(families.count == 29)
        let sampleCount: Int = families.reduce(0) { $0 + $1.samples.count }
        #expect(sampleCount == 70)
        #expect(families.contains { $0.type == .histogram && $0.samples.count == 6 })
        #expect(families.contains { $0.type == .summary && $0.samples.count == 7 })
        var outcome = Outcome()
        outcome.check(Self.validBody)
        #expect(outcome.failures.isEmpty, "\(outcome.failures)")
    }

    @Test func truncationsParseOrFailCleanly() async {
        let body = Self.validBody
        // Every prefix that ends on a line end or one byte before it (mid-value), every prefix of the first and
        // last 60 bytes, and a stride through everything else.
        var lengths = Set(stride(from: 0, through: body.count, by: 37))
        for (index, byte) in body.enumerated() where byte == 0x0A {
            lengths.formUnion([index - 1, index, index + 1].filter { (0...body.count).contains($0) })
        }
        lengths.formUnion(0..<min(body.count, 60))
        lengths.formUnion(max(0, body.count - 60)...body.count)
        var outcome = Outcome()
        for (index, length) in lengths.sorted().enumerated() {
            if index % 100 == 0 { await Task.yield() }
            outcome.check(Array(body[..<length]), relabelling: index % 4 == 0)
        }
        #expect(outcome.failures.isEmpty, "\(outcome.failures)")
        #expect(outcome.parsed > 150)
        #expect(outcome.rejected > 100)
    }

    @Test func randomBytesParseOrFailCleanly() async {
        var random = SplitMix64(state: 0xF022_0001)
        var outcome = Outcome()
        for index in 0..<2_000 {
            if index % 200 == 0 { await Task.yield() }
            let length = Int(random.next() % 160)
            let input: [UInt8] = (0..<length).map { _ in
                if index % 2 == 0 {
                    UInt8(truncatingIfNeeded: random.next())
                } else {
                    Self.interestingBytes[Int(random.next() % UInt64(Self.interestingBytes.count))]
                }
            }
            outcome.check(input)
        }
        #expect(outcome.failures.isEmpty, "\(outcome.failures)")
        #expect(outcome.rejected > 1_000)
    }

    @Test func randomTokenSoupParsesOrFailsCleanly() async {
        let tokens = [
            "m", "m_bucket", "m_sum", "m_count", "go_x", "kata_shim_go_x", "kata_pulse_x", "{", "}", "le=\"1\"",
            "quantile=\"0.5\"", "a=\"", "\"", ",", "=", " ", "\t", "\n", "\r\n", "# HELP ", "# TYPE ", "counter",
            "gauge", "histogram", "summary", "untyped", "1", "NaN", "+Inf", "-0", "1e-05", "\\", "\\n", "\\\"", "#",
            "__x=\"y\"", "sandbox_id=\"s\"",
        ].map { Array($0.utf8) }
        var random = SplitMix64(state: 0x70CE_0002)
        var outcome = Outcome()
        for index in 0..<2_000 {
            if index % 200 == 0 { await Task.yield() }
            let count = Int(random.next() % 40)
            outcome.check((0..<count).flatMap { _ in tokens[Int(random.next() % UInt64(tokens.count))] })
        }
        #expect(outcome.failures.isEmpty, "\(outcome.failures)")
        #expect(outcome.parsed > 50)
    }

    /// 2,000 single-byte mutations in four batches of 500 (random replacements, replacements by bytes that
    /// matter to the format, deletions, insertions), so that they can run in parallel.
    @Test(arguments: 0..<4)
    func singleByteMutationsParseOrFailCleanly(batch: Int) async {
        var random = SplitMix64(state: 0x0BAD_F00D &+ UInt64(batch))
        var outcome = Outcome()
        let body = Self.validBody
        for index in 0..<500 {
            if index % 50 == 0 { await Task.yield() }
            var input = body
            let position = Int(random.next() % UInt64(input.count))
            let interesting = Self.interestingBytes[Int(random.next() % UInt64(Self.interestingBytes.count))]
            switch batch {
            case 0: input[position] = UInt8(truncatingIfNeeded: random.next())
            case 1: input[position] = interesting
            case 2: input.remove(at: position)
            default: input.insert(interesting, at: position)
            }
            outcome.check(input, relabelling: index % 8 == 0)
        }
        #expect(outcome.failures.isEmpty, "\(outcome.failures)")
        #expect(outcome.parsed > 50)
        #expect(outcome.rejected > 50)
    }
}
