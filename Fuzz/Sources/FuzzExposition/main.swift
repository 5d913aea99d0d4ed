import FuzzSupport
import KataPulse

/// libFuzzer's set-up hook, before the first input: builds what is built once (the disk filter's regular
/// expression, which the standard library compiles on first use and leaks; scripts/fuzz.sh suppresses leaks
/// from here, so that per-input leak detection stays on for everything else).
@_cdecl("LLVMFuzzerInitialize")
public func initializeExposition(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    _ = ExpositionFuzzer.disks.includes("vda")
    return 0
}

/// libFuzzer's entry point: one shim body per call, taken through what the collector does with a body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExposition(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    ExpositionFuzzer.check(FuzzInput(data, size).bytes)
    return 0
}

/// The exposition properties.
///
/// A body the parser rejects only has to be rejected without a crash. A body it accepts must
/// - respect the limits it was parsed with (a body over any of them is rejected whole);
/// - survive render → parse, under the same limits, unchanged (labels named `__*` aside: the renderer never
///   writes them), and render to the same bytes again (rendering is a fixed point);
/// - come out of relabelling as the kata-monitor contract says (identity labels appended once, in order, before
///   `le`/`quantile`; no reserved family, no `__*` label, no duplicate series; every sample counted);
/// - come out of the cAdvisor mapping as catalogue families with catalogue labels;
/// - and, relabelled and mapped together and rendered as the collector publishes a sandbox, parse back to
///   exactly what was published and render to the same bytes again;
/// - and the next body, published from the first one's shape (``BodyShape``), is the same bytes as when read
///   in full, or rejected the same way: the body again, and the body with the digits of every line's last
///   word changed (its value or its timestamp).
///
/// Globals live here rather than at the top level: libFuzzer's `main` runs instead of main.swift's, so only
/// lazily initialised statics are ever set up.
enum ExpositionFuzzer {
    /// The parser as the collector runs it, with the default limits.
    static let parser = ExpositionParser()
    /// Parses what the collector published. The limits bound guest bodies; relabelling legitimately grows a
    /// body past them (four more labels, `kata_shim_` names, cAdvisor's series besides the kata ones), so that
    /// way back checks the syntax only.
    static let reparser = ExpositionParser(
        limits: ExpositionLimits(
            maxSeries: .max, maxLabelsPerSeries: .max, maxLabelValueLength: .max, maxNameLength: .max))
    /// The sandbox, with CRI metadata, as the collector labels it; the values need escaping.
    static let identity = SandboxLabels(
        sandboxID: "6fcf0a90b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8",
        criUID: "0c2b3a47-8e6f-4d1a-9b5c-7e8f9a0b1c2d", criName: "web-\"0\"\\\n", criNamespace: "default")
    static let cadvisorIdentity = CadvisorIdentity(
        sandboxID: identity.sandboxID, namespace: identity.criNamespace, pod: identity.criName,
        startTime: 1_764_633_600.25)
    static let disks = try! DiskFilter()
    /// `container_last_seen`: any fixed time, so that a failing input fails again.
    static let now = 1_764_637_200.5

    static func check(_ body: [UInt8]) {
        let families: [MetricFamily]
        do {
            families = try parser.parse(body)
        } catch {
            let lineCount = body.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            fuzzRequire(
                (1...lineCount).contains(error.line) && !error.message.isEmpty,
                "error \(error) outside lines 1...\(lineCount) or without a message")
            do {
                _ = try collect(body)
                fuzzRequire(false, "the collector accepts a body the parser rejects (\(error))")
            } catch let collectorError {
                fuzzRequire(
                    collectorError == error, "the collector rejects with \(collectorError), the parser \(error)")
            }
            return
        }
        checkLimits(families, parser.limits)

        // The renderer's own round trip, in the parser's order, empty families included.
        let rendered = ExpositionRenderer.render(families)
        let reparsed = parse(rendered, with: parser, what: "render(parse(x))")
        let expected = families.map(withoutInternalLabels)
        fuzzRequire(reparsed == expected, "render(parse(x)) parses differently: \(difference(expected, reparsed))")
        let renderedAgain = ExpositionRenderer.render(reparsed)
        fuzzRequire(
            renderedAgain == rendered,
            "render is not a fixed point: \(fuzzDescribe(rendered)) became \(fuzzDescribe(renderedAgain))")

        // What the collector publishes for the sandbox (Collector.collectOne, exposition kata,cadvisor).
        let relabelled = Relabeler.relabel(families, with: identity)
        checkRelabelled(relabelled, from: families)
        let cadvisor = CadvisorMapper.map(families, identity: cadvisorIdentity, disks: disks, now: now)
        checkCadvisor(cadvisor)
        let published = (relabelled.families + cadvisor).sorted { $0.name < $1.name }
        let sandbox = RenderedSandbox(id: identity.sandboxID, families: published)
        let served = parse(sandbox.body, with: reparser, what: "the published sandbox body")
        let nonEmpty = published.filter { !$0.samples.isEmpty }
        fuzzRequire(served == nonEmpty, "the published body parses differently: \(difference(nonEmpty, served))")
        let servedAgain = RenderedSandbox(id: identity.sandboxID, families: served)
        fuzzRequire(servedAgain.body == sandbox.body, "the published body does not render to itself")
        fuzzRequire(servedAgain.families == sandbox.families, "the published families' ranges differ")

        // The collector does all of the above in the one pass that reads the body: the same bytes.
        do {
            let collected = try collect(body)
            fuzzRequire(
                collected.body == sandbox.body,
                "the collector publishes \(fuzzDescribe(collected.body)), step by step gives \(fuzzDescribe(sandbox.body))"
            )
            fuzzRequire(collected.families == sandbox.families, "the collector's family index differs")
        } catch {
            fuzzRequire(false, "the collector rejects (\(error)) a body the parser accepts")
        }
        checkShape(of: body)
    }

    /// A body published from the previous body's shape is what it is when read in full.
    static func checkShape(of body: [UInt8]) {
        var shape: BodyShape?
        _ = try? collect(body, shape: &shape)
        fuzzRequire(shape != nil || body.count > 16_384, "an accepted body of \(body.count) bytes has no shape")
        for next in [body, withLastWordsChanged(body)] {
            var carried = shape
            let fromShape = Result { () throws(ExpositionError) in try collect(next, shape: &carried) }
            let inFull = Result { () throws(ExpositionError) in try collect(next) }
            switch (fromShape, inFull) {
            case (.success(let lhs), .success(let rhs)):
                fuzzRequire(
                    lhs.body == rhs.body && lhs.families == rhs.families,
                    "from the shape \(fuzzDescribe(lhs.body)), read in full \(fuzzDescribe(rhs.body))")
            case (.failure(let lhs), .failure(let rhs)):
                fuzzRequire(lhs == rhs, "rejected from the shape as \(lhs), in full as \(rhs)")
            default:
                fuzzRequire(false, "from the shape \(fromShape), read in full \(inFull)")
            }
        }
    }

    /// `body` with the digits after each line's last blank shifted by one (9 → 0).
    static func withLastWordsChanged(_ body: [UInt8]) -> [UInt8] {
        var changed = body
        var lineEnd = changed.count
        var index = changed.count - 1
        var inLastWord = true
        while index >= 0 {
            let byte = changed[index]
            if byte == 0x0A {
                lineEnd = index
                inLastWord = true
            } else if byte == 0x20 || byte == 0x09 {
                if index < lineEnd - 1 { inLastWord = false }
            } else if inLastWord && (0x30...0x39).contains(byte) {
                changed[index] = byte == 0x39 ? 0x30 : byte + 1
            }
            index -= 1
        }
        return changed
    }

    /// What the collector publishes for the body, in one pass (Collector.collectOne).
    static func collect(_ body: [UInt8]) throws(ExpositionError) -> RenderedSandbox {
        try Collector.rendering(
            of: body, labels: identity, startTime: cadvisorIdentity.startTime, configuration: .init(), now: now)
    }

    /// The same, from the previous body's shape when it has it.
    static func collect(_ body: [UInt8], shape: inout BodyShape?) throws(ExpositionError) -> RenderedSandbox {
        try Collector.rendering(
            of: body, labels: identity, startTime: cadvisorIdentity.startTime, configuration: .init(), now: now,
            shape: &shape)
    }

    /// Parses the agent's own output, which must always parse.
    static func parse(_ bytes: [UInt8], with parser: ExpositionParser, what: String) -> [MetricFamily] {
        do {
            return try parser.parse(bytes)
        } catch {
            fuzzRequire(false, "\(what) is rejected: \(error) in \(fuzzDescribe(bytes, limit: 2_000))")
            return []
        }
    }

    /// What the parser accepted is within its limits and made of valid names.
    static func checkLimits(_ families: [MetricFamily], _ limits: ExpositionLimits) {
        let series = families.reduce(0) { $0 + $1.samples.count }
        fuzzRequire(series <= limits.maxSeries, "\(series) series accepted, limit \(limits.maxSeries)")
        for family in families {
            fuzzRequire(isName(family.name, allowColon: true), "invalid family name \(fuzzDescribe(family.name))")
            fuzzRequire(family.name.utf8.count <= limits.maxNameLength, "family name over the limit")
            for sample in family.samples {
                fuzzRequire(isName(sample.name, allowColon: true), "invalid sample name \(fuzzDescribe(sample.name))")
                fuzzRequire(sample.name.utf8.count <= limits.maxNameLength, "sample name over the limit")
                fuzzRequire(
                    sample.labels.count <= limits.maxLabelsPerSeries, "\(sample.labels.count) labels accepted")
                fuzzRequire(
                    Set(sample.labels.map(\.name)).count == sample.labels.count, "duplicate label in \(sample)")
                for label in sample.labels {
                    fuzzRequire(isName(label.name, allowColon: false), "invalid label name \(fuzzDescribe(label.name))")
                    fuzzRequire(label.name.utf8.count <= limits.maxNameLength, "label name over the limit")
                    fuzzRequire(
                        label.value.utf8.count <= limits.maxLabelValueLength,
                        "a label value of \(label.value.utf8.count) bytes accepted, limit \(limits.maxLabelValueLength)"
                    )
                }
            }
        }
    }

    /// Relabelling keeps the kata-monitor contract (Relabeler's documentation).
    static func checkRelabelled(_ result: RelabelResult, from families: [MetricFamily]) {
        let identityValues = [identity.sandboxID, identity.criUID, identity.criName, identity.criNamespace]
        let identityLabels = zip(SandboxLabels.names, identityValues).map { Label($0, $1) }
        let names = result.families.map(\.name)
        fuzzRequire(names == names.sorted() && Set(names).count == names.count, "families not sorted or repeated")
        var seriesSeen: Set<[String]> = []
        for family in result.families {
            fuzzRequire(
                !Relabeler.reservedPrefixes.contains { family.name.hasPrefix($0) },
                "reserved family \(family.name) published")
            fuzzRequire(
                !family.name.hasPrefix("go_") && !family.name.hasPrefix("process_"), "\(family.name) not renamed")
            let trailing = family.type == .histogram ? "le" : family.type == .summary ? "quantile" : nil
            for sample in family.samples {
                fuzzRequire(
                    sample.name.hasPrefix(family.name),
                    "sample \(sample.name) published in family \(family.name) (a sample's name extends its family's)")
                var labels = sample.labels
                fuzzRequire(!labels.contains { $0.name.hasPrefix("__") }, "a __ label published in \(sample)")
                if let trailing, labels.last?.name == trailing { labels.removeLast() }
                fuzzRequire(
                    labels.suffix(identityLabels.count).elementsEqual(identityLabels)
                        && labels.dropLast(identityLabels.count).allSatisfy { !SandboxLabels.names.contains($0.name) },
                    "identity labels not appended exactly once, last but le/quantile: \(sample)")
                let key = [sample.name] + sample.labels.sorted { $0.name < $1.name }.flatMap { [$0.name, $0.value] }
                fuzzRequire(seriesSeen.insert(key).inserted, "duplicate series published: \(sample)")
            }
        }
        let published = result.families.reduce(0) { $0 + $1.samples.count }
        let input = families.reduce(0) { $0 + $1.samples.count }
        fuzzRequire(
            published + result.duplicateSeries + result.reservedFamilySamples == input,
            "\(input) samples in, \(published) published + \(result.duplicateSeries) duplicate + "
                + "\(result.reservedFamilySamples) reserved")
    }

    /// The cAdvisor mapping emits catalogue families only, each sample with the catalogue's labels.
    static func checkCadvisor(_ families: [MetricFamily]) {
        let names = families.map(\.name)
        fuzzRequire(names == names.sorted() && Set(names).count == names.count, "cAdvisor families not sorted")
        fuzzRequire(
            families.contains { $0.name == "container_last_seen" && $0.samples.map(\.value) == [now] },
            "no container_last_seen \(now)")
        for family in families {
            guard let entry = CadvisorCatalog.all.first(where: { $0.name == family.name }) else {
                fuzzRequire(false, "\(family.name) is not in the cAdvisor catalogue")
                return
            }
            fuzzRequire(family.help == entry.help && family.type == entry.type, "\(family.name): HELP or TYPE differ")
            for sample in family.samples {
                fuzzRequire(
                    sample.name == family.name && sample.labels.map(\.name) == entry.labelNames,
                    "\(family.name): sample \(sample) lacks the catalogue's labels \(entry.labelNames)")
            }
        }
    }

    /// A family as the renderer writes it: without labels named `__*`.
    static func withoutInternalLabels(_ family: MetricFamily) -> MetricFamily {
        var copy = family
        copy.samples = family.samples.map { sample in
            Sample(name: sample.name, labels: sample.labels.filter { !$0.name.hasPrefix("__") }, value: sample.value)
        }
        return copy
    }

    /// Whether `name` is a metric name (`allowColon`) or a label name.
    static func isName(_ name: String, allowColon: Bool) -> Bool {
        func isStart(_ byte: UInt8) -> Bool {
            (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A || byte == 0x5F || (allowColon && byte == 0x3A)
        }
        guard let first = name.utf8.first, isStart(first) else { return false }
        return name.utf8.allSatisfy { isStart($0) || (0x30...0x39).contains($0) }
    }

    /// The first family that differs, for failure messages.
    static func difference(_ expected: [MetricFamily], _ actual: [MetricFamily]) -> String {
        for (index, (left, right)) in zip(expected, actual).enumerated() where left != right {
            return "family \(index): expected \(left), got \(right)"
        }
        return "expected \(expected.count) families (\(expected.map(\.name))), got \(actual.count) "
            + "(\(actual.map(\.name)))"
    }
}
