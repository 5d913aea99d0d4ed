import Testing

@testable import KataPulse

@Suite struct ExpositionParserTests {
    let parser = ExpositionParser()

    /// Parses `text` with `limits`, returning the error instead of throwing it.
    private func parseFailure(_ text: String, limits: ExpositionLimits = .default) -> ExpositionError? {
        parseFailure(Array(text.utf8), limits: limits)
    }

    private func parseFailure(_ bytes: [UInt8], limits: ExpositionLimits = .default) -> ExpositionError? {
        do {
            _ = try ExpositionParser(limits: limits).parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    /// One body that must be rejected, and where.
    struct RejectedBody: Sendable, CustomTestStringConvertible {
        var name: String
        var body: String
        var line: Int
        var kind: ExpositionError.Kind = .syntax
        var limits: ExpositionLimits = .default

        var testDescription: String { name }
    }

    // MARK: - HELP, TYPE and comments

    @Test func helpTypeAndCommentsBuildOneFamily() throws {
        let body = """
            # HELP http_requests The number of requests.
            # TYPE http_requests counter
            # An ordinary comment, ignored.
            #another comment without a space
            # HELP
            # HELPER is not a keyword
            # TYPE
            http_requests{code="200"} 10
            http_requests{code="500"} 2

            """
        let families = try parser.parse(body)
        #expect(
            families == [
                MetricFamily(
                    name: "http_requests", help: "The number of requests.", type: .counter,
                    samples: [
                        Sample(name: "http_requests", labels: [Label("code", "200")], value: 10),
                        Sample(name: "http_requests", labels: [Label("code", "500")], value: 2),
                    ])
            ])
    }

    @Test func everyDeclaredScalarTypeIsKept() throws {
        let body = """
            # TYPE c counter
            c 1
            # TYPE g gauge
            g -1.5
            # TYPE u untyped
            u 3
            no_type_at_all 4
            """
        let families = try parser.parse(body)
        #expect(families.map(\.name) == ["c", "g", "u", "no_type_at_all"])
        #expect(families.map(\.type) == [.counter, .gauge, .untyped, .untyped])
        #expect(families.map(\.help) == [nil, nil, nil, nil])
        #expect(families.map { $0.samples.map(\.value) } == [[1], [-1.5], [3], [4]])
    }

    @Test func familiesKeepTheOrderOfFirstAppearance() throws {
        let body = """
            zeta 1
            alpha 2
            # HELP mid Declared before its samples.
            zeta{a="b"} 3
            mid 4
            """
        let families = try parser.parse(body)
        #expect(families.map(\.name) == ["zeta", "alpha", "mid"])
        #expect(families[0].samples.count == 2)
        #expect(families[2].help == "Declared before its samples.")
    }

    @Test func helpMayFollowSamplesAndTypeMayFollowHelp() throws {
        let body = """
            # HELP a First help.
            # TYPE a gauge
            a 1
            b 2
            # HELP b Late help.
            """
        let families = try parser.parse(body)
        #expect(families.map(\.name) == ["a", "b"])
        #expect(families[0].type == .gauge)
        #expect(families[1].help == "Late help.")
        #expect(families[1].type == .untyped)
    }

    @Test func helpWithoutSamplesStillDeclaresAFamily() throws {
        let families = try parser.parse("# HELP lonely Nobody reports me.\n# TYPE lonely gauge\n")
        #expect(families == [MetricFamily(name: "lonely", help: "Nobody reports me.", type: .gauge)])
    }

    @Test func helpTextEscapesAreUnescaped() throws {
        let body = #"""
            # HELP foo Backslash \\ newline \n tab-escape \t stays, quote " stays, end \
            foo 1
            """#
        let families = try parser.parse(body)
        #expect(families.first?.help == "Backslash \\ newline \n tab-escape \\t stays, quote \" stays, end \\")
    }

    @Test func emptyHelpIsAnEmptyString() throws {
        let families = try parser.parse("# HELP foo\nfoo 1\n")
        #expect(families.first?.help == "")
        let spaced = try parser.parse("# HELP foo   \t  text with  inner  spaces\nfoo 1\n")
        #expect(spaced.first?.help == "text with  inner  spaces")
    }

    @Test func emptyBodiesHaveNoFamilies() throws {
        #expect(try parser.parse("").isEmpty)
        #expect(try parser.parse([]).isEmpty)
        #expect(try parser.parse("\n\n   \n\t\n# only a comment\n").isEmpty)
    }

    @Test func stringAndByteEntryPointsAgree() throws {
        let body = "# TYPE x gauge\nx{l=\"ü\"} 2\n"
        #expect(try parser.parse(body) == parser.parse(Array(body.utf8)))
    }

    // MARK: - Histograms and summaries

    @Test func histogramSamplesAreGroupedIntoOneFamily() throws {
        let body = """
            # HELP rpc_seconds RPC latency.
            # TYPE rpc_seconds histogram
            rpc_seconds_bucket{method="get",le="0.1"} 3
            rpc_seconds_bucket{method="get",le="1"} 4
            rpc_seconds_bucket{method="get",le="+Inf"} 5
            rpc_seconds_sum{method="get"} 1.5
            rpc_seconds_count{method="get"} 5
            after 1
            """
        let families = try parser.parse(body)
        #expect(families.map(\.name) == ["rpc_seconds", "after"])
        let histogram = try #require(families.first)
        #expect(histogram.type == .histogram)
        #expect(histogram.help == "RPC latency.")
        #expect(
            histogram.samples.map(\.name) == [
                "rpc_seconds_bucket", "rpc_seconds_bucket", "rpc_seconds_bucket", "rpc_seconds_sum",
                "rpc_seconds_count",
            ])
        #expect(histogram.samples[2].labels == [Label("method", "get"), Label("le", "+Inf")])
        #expect(histogram.samples.map(\.value) == [3, 4, 5, 1.5, 5])
    }

    @Test func summarySamplesAreGroupedIntoOneFamily() throws {
        let body = """
            # TYPE gc_seconds summary
            gc_seconds{quantile="0"} 1e-05
            gc_seconds{quantile="0.5"} 2e-05
            gc_seconds{quantile="1"} NaN
            gc_seconds_sum 0.5
            gc_seconds_count 12
            """
        let families = try parser.parse(body)
        #expect(families.count == 1)
        let summary = try #require(families.first)
        #expect(summary.type == .summary)
        #expect(
            summary.samples.map(\.name) == [
                "gc_seconds", "gc_seconds", "gc_seconds", "gc_seconds_sum", "gc_seconds_count",
            ])
        #expect(summary.samples[1].labels == [Label("quantile", "0.5")])
        #expect(summary.samples[2].value.isNaN)
    }

    @Test func suffixedSamplesOfUntypedFamiliesAreTheirOwnFamilies() throws {
        let families = try parser.parse("foo 1\nfoo_sum 2\nfoo_count 3\nfoo_bucket 4\n")
        #expect(families.map(\.name) == ["foo", "foo_sum", "foo_count", "foo_bucket"])
        #expect(families.allSatisfy { $0.type == .untyped && $0.samples.count == 1 })
    }

    @Test func gaugeFamiliesDoNotSwallowSuffixedSamples() throws {
        let families = try parser.parse("# TYPE foo gauge\nfoo 1\nfoo_count 3\n")
        #expect(families.map(\.name) == ["foo", "foo_count"])
    }

    // MARK: - Label values

    @Test func labelValueEscapesAreUnescaped() throws {
        let body = #"""
            foo{path="C:\\dir\\",quote="say \"hi\"",multi="one\ntwo",plain="a}b,c=d#e"} 1
            """#
        let families = try parser.parse(body)
        let labels = try #require(families.first?.samples.first?.labels)
        #expect(
            labels == [
                Label("path", "C:\\dir\\"), Label("quote", "say \"hi\""), Label("multi", "one\ntwo"),
                Label("plain", "a}b,c=d#e"),
            ])
    }

    @Test func labelSetSpellingsAreAccepted() throws {
        let body = """
            a{x="1",} 1
            b{} 2
            c { x = "1" , y = "2" } 3
            d{x=""} 4
            e\t{x="1"}\t5
            job:rate5m{_under="1"} 6
            """
        let families = try parser.parse(body)
        #expect(families.map(\.name) == ["a", "b", "c", "d", "e", "job:rate5m"])
        #expect(families[0].samples[0].labels == [Label("x", "1")])
        #expect(families[1].samples[0].labels == [])
        #expect(families[2].samples[0].labels == [Label("x", "1"), Label("y", "2")])
        #expect(families[3].samples[0].labels == [Label("x", "")])
        #expect(families[4].samples[0].value == 5)
        #expect(families[5].samples[0].labels == [Label("_under", "1")])
    }

    @Test func labelOrderIsPreserved() throws {
        let families = try parser.parse(#"m{z="1",a="2",m="3"} 1"#)
        #expect(families.first?.samples.first?.labels.map(\.name) == ["z", "a", "m"])
    }

    @Test func unicodeLabelValuesArePreserved() throws {
        let families = try parser.parse("m{v=\"日本語 🚀 café\"} 1\n")
        #expect(families.first?.samples.first?.labels == [Label("v", "日本語 🚀 café")])
    }

    @Test func invalidUTF8InALabelValueIsRepaired() throws {
        var body = Array("m{v=\"ok".utf8)
        body += [0xFF, 0xC3, 0x28, 0xE2, 0x82]  // a lone byte, a bad continuation, a truncated sequence
        body += Array("end\"} 1\n".utf8)
        let families = try parser.parse(body)
        let value = try #require(families.first?.samples.first?.labels.first?.value)
        #expect(value.hasPrefix("ok\u{FFFD}"))
        #expect(value.hasSuffix("end"))
        #expect(value.contains("("))
        // Whatever was repaired, the value is valid UTF-8 and survives a render/parse round trip.
        let again = try parser.parse(ExpositionRenderer.render(families))
        #expect(again == families)
    }

    @Test func labelValueLengthIsMeasuredAfterRepairingInvalidUTF8() throws {
        // Two bytes written, six bytes of value (two U+FFFD): the limit bounds what is kept and rendered.
        let body = Array("a{x=\"".utf8) + [0xFF, 0xFF] + Array("\"} 1\n".utf8)
        let families = try ExpositionParser(limits: ExpositionLimits(maxLabelValueLength: 6)).parse(body)
        #expect(families.first?.samples.first?.labels.first?.value == "\u{FFFD}\u{FFFD}")
        let error = try #require(parseFailure(body, limits: ExpositionLimits(maxLabelValueLength: 5)))
        #expect(error.kind == .limit)
    }

    @Test func invalidUTF8InHelpIsRepaired() throws {
        let body = Array("# HELP m bad ".utf8) + [0xC0, 0xAF] + Array(" text\nm 1\n".utf8)
        let families = try parser.parse(body)
        let help = try #require(families.first?.help)
        #expect(help.hasPrefix("bad \u{FFFD}"))
        #expect(help.hasSuffix(" text"))
    }

    // MARK: - Values and timestamps

    private static let values: [(String, Double)] = [
        ("1", 1), ("-1", -1), ("+3", 3), ("0", 0), ("1.5", 1.5), ("-0.25", -0.25),
        ("1e-05", 0.00001), ("1.5E+10", 1.5e10), ("2.304632e+06", 2_304_632), ("5.7027e-05", 5.7027e-05),
        ("1.8446744073709552e+19", 1.8446744073709552e+19), ("+Inf", .infinity), ("Inf", .infinity),
        ("-Inf", -.infinity), (".5", 0.5), ("123456789", 123_456_789), ("1e6", 1_000_000),
    ]

    @Test(arguments: values)
    func valuesParseAsGoWould(text: String, expected: Double) throws {
        let families = try parser.parse("m \(text)\n")
        let value = try #require(families.first?.samples.first?.value)
        #expect(value == expected)
    }

    /// Spellings Swift's `Double(_:)` reads but Prometheus (Go `strconv.ParseFloat` behind a `pP_` check) rejects.
    @Test(arguments: ["0x10", "0x1p3", "0X1P-2", "1_000", "snan", "+nan", "-nan", "1e500", "-1e500", "1e", "e1", "--1"])
    func valuesPrometheusRejectsAreRejected(text: String) throws {
        let error = try #require(parseFailure("ok 1\nm \(text)\n"))
        #expect(error.kind == .syntax)
        #expect(error.line == 2)
    }

    @Test func nanParses() throws {
        let families = try parser.parse("m NaN\n")
        #expect(families.first?.samples.first?.value.isNaN == true)
    }

    @Test func negativeZeroKeepsItsSign() throws {
        let families = try parser.parse("m -0\n")
        let value = try #require(families.first?.samples.first?.value)
        #expect(value == 0 && value.sign == .minus)
    }

    @Test func timestampsAreAcceptedAndDropped() throws {
        let body = "a 1 1700000000000\nb{x=\"y\"} 2 -5\nc 3   42  \t\nd 4 +7\n"
        let families = try parser.parse(body)
        #expect(families.map(\.name) == ["a", "b", "c", "d"])
        #expect(families.map { $0.samples.map(\.value) } == [[1], [2], [3], [4]])
        // The renderer never writes a timestamp back.
        let rendered = String(decoding: ExpositionRenderer.render(families), as: UTF8.self)
        #expect(!rendered.contains("1700000000000"))
        #expect(rendered.contains("a 1\n"))
    }

    // MARK: - Line ends and blank lines

    @Test func crlfLineEndsParseLikeLF() throws {
        let lf = """
            # HELP foo Help text.
            # TYPE foo histogram
            foo_bucket{le="1"} 1
            foo_bucket{le="+Inf"} 2
            foo_sum 3
            foo_count 2
            bar{a="b"} 4 123

            """
        let crlf = lf.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
        #expect(crlf.utf8.count == lf.utf8.count + lf.utf8.filter { $0 == 0x0A }.count)
        let fromLF = try parser.parse(lf)
        let fromCRLF = try parser.parse(crlf)
        #expect(fromCRLF == fromLF)
        #expect(fromCRLF.first?.help == "Help text.")
    }

    @Test func helpTextDoesNotEndInACarriageReturn() throws {
        // In "\r\r\n" the line end is "\r\n" and the text would end in "\r", which a render turns into a line end.
        let families = try parser.parse("# HELP m text\r\r\nm 1\r\n# HELP n \r\r")
        #expect(families.map(\.help) == ["text", ""])
        #expect(try parser.parse(ExpositionRenderer.render(families)) == families)
    }

    @Test func blankAndIndentedLinesAreIgnored() throws {
        let body = "\n\n   \t\n  # TYPE foo gauge\n\n\t foo 1\n\r\n\nbar 2"
        let families = try parser.parse(body)
        #expect(families.map(\.name) == ["foo", "bar"])
        #expect(families[0].type == .gauge)
    }

    // MARK: - Syntax errors

    private static let syntaxErrors: [RejectedBody] = [
        RejectedBody(name: "duplicate label name", body: "ok 1\n# c\nfoo{a=\"1\",b=\"2\",a=\"3\"} 1\n", line: 3),
        RejectedBody(name: "unterminated label value", body: "ok 1\nfoo{a=\"1} 1\n", line: 2),
        RejectedBody(name: "unterminated label set", body: "foo{a=\"1\" 1\n", line: 1),
        RejectedBody(name: "label value without quotes", body: "foo{a=1} 1\n", line: 1),
        RejectedBody(name: "label without '='", body: "foo{a} 1\n", line: 1),
        RejectedBody(name: "invalid escape \\t", body: "ok 1\nok 2\nok 3\nfoo{a=\"x\\ty\"} 1\n", line: 4),
        RejectedBody(name: "escape at end of line", body: "foo{a=\"x\\", line: 1),
        RejectedBody(name: "bad value", body: "ok 1\nfoo 1.2.3\n", line: 2),
        RejectedBody(name: "word value", body: "foo one\n", line: 1),
        RejectedBody(name: "empty value", body: "foo \n", line: 1),
        RejectedBody(name: "missing value", body: "ok 1\n\nfoo\n", line: 3),
        RejectedBody(name: "missing value after labels", body: "foo{a=\"b\"}\n", line: 1),
        RejectedBody(name: "second TYPE", body: "# TYPE foo gauge\n# TYPE foo counter\n", line: 2),
        RejectedBody(name: "TYPE after samples", body: "foo 1\n# TYPE foo gauge\n", line: 2),
        RejectedBody(name: "second HELP", body: "# HELP foo a\nfoo 1\n# HELP foo b\n", line: 3),
        RejectedBody(name: "unknown type", body: "ok 1\n# TYPE foo widget\n", line: 2),
        RejectedBody(name: "TYPE without a type", body: "# TYPE foo\n", line: 1),
        RejectedBody(name: "TYPE with trailing words", body: "# TYPE foo gauge extra\n", line: 1),
        RejectedBody(name: "TYPE with an invalid name", body: "# TYPE 1foo gauge\n", line: 1),
        RejectedBody(name: "garbage text", body: "ok 1\nthis is not a metric\n", line: 2),
        RejectedBody(name: "garbage symbols", body: "!!!\n", line: 1),
        RejectedBody(name: "name starting with a digit", body: "1abc 1\n", line: 1),
        RejectedBody(name: "label name with a colon", body: "foo{a:b=\"1\"} 1\n", line: 1),
        RejectedBody(name: "bad timestamp", body: "foo 1 1.5\n", line: 1),
        RejectedBody(name: "text after timestamp", body: "foo 1 2 3\n", line: 1),
        RejectedBody(name: "histogram bucket without le", body: "# TYPE h histogram\nh_bucket{a=\"b\"} 1\n", line: 2),
        RejectedBody(name: "histogram bucket with bad le", body: "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", line: 2),
        RejectedBody(name: "histogram sample without suffix", body: "# TYPE h histogram\nh 1\n", line: 2),
        RejectedBody(name: "summary sample without quantile", body: "# TYPE s summary\ns{a=\"b\"} 1\n", line: 2),
        RejectedBody(name: "summary with bad quantile", body: "# TYPE s summary\ns{quantile=\"q\"} 1\n", line: 2),
        RejectedBody(name: "error after CRLF lines", body: "a 1\r\nb 2\r\n\r\nc{\r\n", line: 4),
        RejectedBody(name: "error on a last line without newline", body: "a 1\nb 2\nc x", line: 3),
    ]

    @Test(arguments: syntaxErrors)
    func syntaxErrorsCarryTheirLine(_ rejected: RejectedBody) throws {
        let error = try #require(parseFailure(rejected.body, limits: rejected.limits))
        #expect(error.kind == .syntax)
        #expect(error.line == rejected.line)
        #expect(!error.message.isEmpty)
        #expect(error.description == "line \(rejected.line): \(error.message)")
    }

    // MARK: - Limits

    private static let limitErrors: [RejectedBody] = [
        RejectedBody(
            name: "maxSeries", body: "a 1\nb 2\n# c\nc 3\n", line: 4, kind: .limit,
            limits: ExpositionLimits(maxSeries: 2)),
        RejectedBody(
            name: "maxLabelsPerSeries", body: "a{x=\"1\",y=\"2\"} 1\nb{x=\"1\",y=\"2\",z=\"3\"} 1\n", line: 2,
            kind: .limit, limits: ExpositionLimits(maxLabelsPerSeries: 2)),
        RejectedBody(
            name: "maxLabelValueLength", body: "a{x=\"abcd\"} 1\nb{x=\"abcde\"} 1\n", line: 2, kind: .limit,
            limits: ExpositionLimits(maxLabelValueLength: 4)),
        RejectedBody(
            name: "maxNameLength on a metric name", body: "abcde 1\nabcdef 1\n", line: 2, kind: .limit,
            limits: ExpositionLimits(maxNameLength: 5)),
        RejectedBody(
            name: "maxNameLength on a label name", body: "a{abcde=\"1\"} 1\na{abcdef=\"1\"} 1\n", line: 2,
            kind: .limit, limits: ExpositionLimits(maxNameLength: 5)),
        RejectedBody(
            name: "maxNameLength on a HELP line", body: "# HELP abcdefgh text\n", line: 1, kind: .limit,
            limits: ExpositionLimits(maxNameLength: 5)),
    ]

    @Test(arguments: limitErrors)
    func limitsAreReportedAsLimitErrors(_ rejected: RejectedBody) throws {
        let error = try #require(parseFailure(rejected.body, limits: rejected.limits))
        #expect(error.kind == .limit)
        #expect(error.line == rejected.line)
        // The same body is fine under the default limits.
        #expect(parseFailure(rejected.body) == nil)
    }

    @Test func bodiesExactlyAtTheLimitsAreAccepted() throws {
        let limits = ExpositionLimits(maxSeries: 3, maxLabelsPerSeries: 2, maxLabelValueLength: 4, maxNameLength: 5)
        let body = "abcde{x=\"abcd\",y=\"1\"} 1\nabcde{x=\"b\"} 2\nabcde 3\n"
        let families = try ExpositionParser(limits: limits).parse(body)
        #expect(families.first?.samples.count == 3)
    }

    @Test func labelValueLengthIsMeasuredAfterUnescaping() throws {
        let limits = ExpositionLimits(maxLabelValueLength: 3)
        // Six bytes written, three bytes of value.
        let families = try ExpositionParser(limits: limits).parse(#"a{x="\"\\\n"} 1"#)
        #expect(families.first?.samples.first?.labels.first?.value == "\"\\\n")
    }

    @Test func defaultLimitsMatchTheReadme() {
        let limits = ExpositionLimits.default
        #expect(limits.maxSeries == 20_000)
        #expect(limits.maxLabelsPerSeries == 32)
        #expect(limits.maxLabelValueLength == 2_048)
        #expect(limits.maxNameLength == 256)
        #expect(ExpositionParser().limits == .default)
    }

    @Test func defaultSeriesLimitAppliesToLargeBodies() throws {
        var body = ""
        for index in 0...20_000 { body += "m{i=\"\(index)\"} 1\n" }
        let error = try #require(parseFailure(body))
        #expect(error.kind == .limit)
        #expect(error.line == 20_001)
    }

    // MARK: - Model

    @Test func samplesCompareValuesByBitPatternWithNaNEqualToNaN() {
        #expect(Sample(name: "a", value: .nan) == Sample(name: "a", value: .nan))
        #expect(Sample(name: "a", value: 1) != Sample(name: "a", value: 2))
        #expect(Sample(name: "a", value: 0) != Sample(name: "a", value: -0.0))
        #expect(Sample(name: "a", value: 1) != Sample(name: "b", value: 1))
        #expect(
            Sample(name: "a", labels: [Label("x", "1"), Label("y", "2")], value: 1)
                != Sample(name: "a", labels: [Label("y", "2"), Label("x", "1")], value: 1))
    }

    @Test func metricFamilyDefaultsToUntypedWithoutHelp() {
        let family = MetricFamily(name: "x")
        #expect(family.type == .untyped)
        #expect(family.help == nil)
        #expect(family.samples.isEmpty)
        #expect(MetricType.allCases.map(\.rawValue) == ["counter", "gauge", "histogram", "summary", "untyped"])
    }
}
