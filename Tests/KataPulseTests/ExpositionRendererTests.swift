import Testing

@testable import KataPulse
@testable import KataPulseSimulator

@Suite struct ExpositionRendererTests {
    private func rendered(_ families: [MetricFamily]) -> String {
        String(decoding: ExpositionRenderer.render(families), as: UTF8.self)
    }

    private func formatted(_ value: Double) -> String {
        var out: [UInt8] = []
        ExpositionRenderer.appendValue(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// One value and how Go's `strconv.FormatFloat(v, 'g', -1, 64)` writes it.
    struct GoFloat: Sendable, CustomTestStringConvertible {
        var value: Double
        var text: String

        init(_ value: Double, _ text: String) {
            self.value = value
            self.text = text
        }

        var testDescription: String { text }
    }

    // MARK: - Layout

    @Test func rendersHelpTypeAndSamples() {
        let families = [
            MetricFamily(
                name: "requests", help: "Requests served.", type: .counter,
                samples: [
                    Sample(name: "requests", labels: [Label("code", "200"), Label("method", "get")], value: 10),
                    Sample(name: "requests", value: 2.5),
                ]),
            MetricFamily(
                name: "latency", help: nil, type: .histogram,
                samples: [
                    Sample(name: "latency_bucket", labels: [Label("le", "+Inf")], value: 3),
                    Sample(name: "latency_sum", value: 0.5),
                    Sample(name: "latency_count", value: 3),
                ]),
        ]
        #expect(
            rendered(families) == """
                # HELP requests Requests served.
                # TYPE requests counter
                requests{code="200",method="get"} 10
                requests 2.5
                # TYPE latency histogram
                latency_bucket{le="+Inf"} 3
                latency_sum 0.5
                latency_count 3

                """)
    }

    @Test func emptyInputRendersNothing() {
        #expect(ExpositionRenderer.render([]).isEmpty)
    }

    @Test func familyWithoutSamplesStillHasItsHeader() {
        #expect(rendered([MetricFamily(name: "x", help: "", type: .gauge)]) == "# HELP x \n# TYPE x gauge\n")
    }

    @Test func contentTypeIsTextFormat004() {
        #expect(ExpositionRenderer.contentType == "text/plain; version=0.0.4; charset=utf-8")
    }

    @Test func helpEscapesBackslashAndNewlineButNotQuotes() {
        let family = MetricFamily(name: "h", help: "a \\ b\nc \"q\"", type: .gauge)
        #expect(rendered([family]) == "# HELP h a \\\\ b\\nc \"q\"\n# TYPE h gauge\n")
    }

    @Test func helpRoundTripsThroughTheParser() throws {
        let helps = ["plain", "back\\slash", "new\nline", "trailing \\", "\\n literally", "quote \" and ünïcödé", ""]
        for help in helps {
            let family = MetricFamily(name: "h", help: help, type: .gauge, samples: [Sample(name: "h", value: 1)])
            let parsed = try ExpositionParser().parse(ExpositionRenderer.render([family]))
            #expect(parsed == [family], "help \(help.debugDescription)")
        }
    }

    // MARK: - Label escaping

    private static let nastyValues: [String] = [
        "", "plain", "\"", "\\", "\n", "\"} 1\n", "\\\"", "\\n", "ends with backslash \\",
        "\" } 666\n# TYPE injected counter\ninjected 1\n", "a\"b\\c\nd", "日本語 🚀 café", "tab\tand\rreturn",
        "{}=,#", "\u{0}nul", String(repeating: "\\\"\n", count: 50),
    ]

    @Test(arguments: nastyValues)
    func labelValuesRoundTripAndStayOnOneLine(_ value: String) throws {
        let sample = Sample(name: "m", labels: [Label("a", value), Label("b", "after")], value: 1)
        let bytes = ExpositionRenderer.render([MetricFamily(name: "m", type: .gauge, samples: [sample])])
        // One TYPE line and one sample line: no value can add a line.
        #expect(bytes.filter { $0 == 0x0A }.count == 2)
        let parsed = try ExpositionParser().parse(bytes)
        #expect(parsed == [MetricFamily(name: "m", type: .gauge, samples: [sample])])
    }

    @Test func labelValueEscapesAreExact() {
        var out: [UInt8] = []
        ExpositionRenderer.appendSample(Sample(name: "m", labels: [Label("v", "a\"b\\c\nd")], value: 1), to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"m{v="a\"b\\c\nd"} 1"# + "\n")
    }

    @Test func doubleUnderscoreLabelsAreNeverWritten() {
        let samples = [
            Sample(name: "m", labels: [Label("__name__", "x"), Label("a", "1"), Label("__meta", "y")], value: 1),
            Sample(name: "m", labels: [Label("__only", "z")], value: 2),
            Sample(name: "m", labels: [Label("_single", "ok"), Label("b__", "ok")], value: 3),
        ]
        #expect(
            rendered([MetricFamily(name: "m", samples: samples)]) == """
                # TYPE m untyped
                m{a="1"} 1
                m 2
                m{_single="ok",b__="ok"} 3

                """)
    }

    // MARK: - Values (Go strconv.FormatFloat(v, 'g', -1, 64))

    private static let goFloats: [GoFloat] = [
        GoFloat(0, "0"),
        GoFloat(-0.0, "-0"),
        GoFloat(1, "1"),
        GoFloat(-1, "-1"),
        GoFloat(100, "100"),
        GoFloat(123_456, "123456"),
        GoFloat(999_999, "999999"),
        GoFloat(-999_999, "-999999"),
        GoFloat(1e6, "1e+06"),
        GoFloat(-1e6, "-1e+06"),
        GoFloat(2_304_632, "2.304632e+06"),
        GoFloat(1_234_567.5, "1.2345675e+06"),
        GoFloat(123_456_789, "1.23456789e+08"),
        GoFloat(1_289_402_384, "1.289402384e+09"),
        GoFloat(9_007_199_254_740_992, "9.007199254740992e+15"),
        GoFloat(1.8446744073709552e+19, "1.8446744073709552e+19"),
        GoFloat(1e20, "1e+20"),
        GoFloat(1e21, "1e+21"),
        GoFloat(1e100, "1e+100"),
        GoFloat(1.5e300, "1.5e+300"),
        GoFloat(.greatestFiniteMagnitude, "1.7976931348623157e+308"),
        GoFloat(0.1, "0.1"),
        GoFloat(0.5, "0.5"),
        GoFloat(-0.5, "-0.5"),
        GoFloat(1.5, "1.5"),
        GoFloat(-2.25, "-2.25"),
        GoFloat(1.0 / 3.0, "0.3333333333333333"),
        GoFloat(123_456.5, "123456.5"),
        GoFloat(100_000.0000001, "100000.0000001"),
        GoFloat(0.001, "0.001"),
        GoFloat(0.0001, "0.0001"),
        GoFloat(0.000512337, "0.000512337"),
        GoFloat(0.00001, "1e-05"),
        GoFloat(5.7027e-05, "5.7027e-05"),
        GoFloat(-5.7027e-05, "-5.7027e-05"),
        GoFloat(1e-07, "1e-07"),
        GoFloat(1.25e-100, "1.25e-100"),
        GoFloat(.leastNonzeroMagnitude, "5e-324"),
        GoFloat(.leastNormalMagnitude, "2.2250738585072014e-308"),
        GoFloat(.infinity, "+Inf"),
        GoFloat(-.infinity, "-Inf"),
        GoFloat(.nan, "NaN"),
    ]

    @Test(arguments: goFloats)
    func valuesAreFormattedLikeGo(_ expected: GoFloat) {
        #expect(formatted(expected.value) == expected.text)
    }

    @Test func negativeNaNIsStillNaN() {
        #expect(formatted(-Double.nan) == "NaN")
    }

    @Test func appendValueAppendsWithoutTouchingWhatIsThere() {
        var out = Array("x=".utf8)
        ExpositionRenderer.appendValue(2_304_632, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "x=2.304632e+06")
    }

    /// Random finite doubles: the text is Go-shaped and reads back as the exact same value.
    @Test func randomValuesRoundTripExactly() throws {
        var random = SplitMix64(state: 0x5EED_0001)
        var failures: [String] = []
        for index in 0..<20_000 {
            let value: Double
            switch index % 4 {
            case 0: value = Double(bitPattern: random.next())
            case 1: value = Double(Int64(bitPattern: random.next()) >> Int64.random(in: 0..<63, using: &random))
            case 2: value = Double.random(in: -1e7...1e7, using: &random)
            default: value = Double.random(in: -1e-3...1e-3, using: &random)
            }
            guard value.isFinite else { continue }
            let text = formatted(value)
            guard let back = Double(text), back.bitPattern == value.bitPattern, isGoShaped(text, value) else {
                failures.append("\(value.debugDescription) -> \(text)")
                continue
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
    }

    /// Checks the %e / %f choice and the exponent spelling of Go's shortest 'g' format.
    private func isGoShaped(_ text: String, _ value: Double) -> Bool {
        var body = Substring(text)
        if value.sign == .minus {
            guard body.first == "-" else { return false }
            body = body.dropFirst()
        }
        guard let first = body.first, first.isASCII, first.isNumber else { return false }
        // The decimal exponent of the leading significant digit.
        let exponent: Int
        if value == 0 {
            exponent = 0
        } else {
            let description = value.magnitude.debugDescription
            var digits = description
            var shift = 0
            if let e = description.firstIndex(where: { $0 == "e" || $0 == "E" }) {
                shift = Int(description[description.index(after: e)...]) ?? 0
                digits = String(description[..<e])
            }
            let point =
                digits.firstIndex(of: ".").map { digits.distance(from: digits.startIndex, to: $0) } ?? digits.count
            let plain = digits.filter { $0 != "." }
            guard let leading = plain.firstIndex(where: { $0 != "0" }) else { return false }
            exponent = point - 1 - plain.distance(from: plain.startIndex, to: leading) + shift
        }
        let usesExponent = body.contains("e")
        guard usesExponent == (exponent < -4 || exponent >= 6) else { return false }
        if usesExponent {
            // d[.ddd]e±XX with at least two exponent digits.
            let parts = body.split(separator: "e")
            guard parts.count == 2, let sign = parts[1].first, sign == "+" || sign == "-" else { return false }
            let digits = parts[1].dropFirst()
            guard digits.count >= 2, digits.allSatisfy(\.isNumber), Int(digits) == abs(exponent) else { return false }
            guard !parts[0].hasSuffix("0") || parts[0].count == 1, !parts[0].hasSuffix(".") else { return false }
        } else if body.contains(".") {
            guard !body.hasSuffix("0"), !body.hasSuffix(".") else { return false }
        }
        return true
    }
}
