import Testing

@testable import KataPulse
@testable import KataPulseSimulator

/// A body of the previous body's shape is published from its values alone (``BodyShape``); whatever way a body
/// is read, the collector publishes byte for byte what the step-by-step model does (``ReferencePipeline``).
/// One test at a time: each is seconds of work on the cooperative threads (two on two cores), which the tests of
/// deadlines (a shim that resets within 5 s) share.
@Suite(.serialized) struct BodyShapeTests {
    static let now = 1_764_000_000.5
    /// Kata and cAdvisor families (with a VM container), kata only, cAdvisor only: a few of the renderer tests'
    /// configurations, so that the suite stays light beside the tests that need the two cores' time.
    static let configurations = [1, 2, 4].map { SandboxRendererTests.configurations()[$0] }

    /// Publishes `bodies` one after the other as a round does for one sandbox (the shape of the last body
    /// published carried to the next; a rejected body keeps it) and returns, per body, whether it was read in
    /// full; records every difference from the model.
    static func readsInFull(
        _ bodies: [[UInt8]], labels: SandboxLabels, configuration: Collector.Configuration,
        startTime: Double? = nil, what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async -> [Bool?] {
        var shape: BodyShape?
        var reads: [Bool?] = []
        for (index, body) in bodies.enumerated() {
            // Work on one of the few cooperative threads (two on two cores): let the other tests' tasks run.
            await Task.yield()
            let target = Collector.CollectionTarget(
                id: labels.sandboxID, labels: labels, startTime: startTime, shape: shape)
            var publication: Collector.Publication?
            let difference = ReferencePipeline.difference(
                body, for: target, configuration: configuration, now: now + Double(index), publication: &publication)
            #expect(difference == nil, "\(what), body \(index)", sourceLocation: sourceLocation)
            if let publication { shape = publication.shape }
            reads.append(publication?.readInFull)
        }
        return reads
    }

    @Test(arguments: [ShimFlavor.go, .rust])
    func consecutiveBodiesArePublishedFromTheirShape(flavor: ShimFlavor) async {
        let shim = SimulatedShimBody(sandboxID: "4c1d0a6b9e3f4e2a8b7c6d5e4f3a2b1c", flavor: flavor, seed: 5)
        // A shim scraped every 15 s: values move (counters, gauges, histograms), series stay.
        let bodies = (0..<5).map { shim.render(elapsed: 3_600 + Double($0) * 15) }
        #expect(Set(bodies).count == bodies.count, "the simulated bodies must differ, in their values")
        for labels in SandboxRendererTests.identities {
            for (index, configuration) in Self.configurations.enumerated() {
                let reads = await Self.readsInFull(
                    bodies, labels: labels, configuration: configuration, startTime: 1_764_000_000.25,
                    what: "\(flavor), \(labels), configuration \(index)")
                #expect(reads == [true, false, false, false, false], "\(flavor), configuration \(index)")
            }
        }
    }

    /// One change to a line's name, labels or comment, or a line more or less, and the body is read in full; a
    /// change after the value (a timestamp, blanks, another spelling of a number) is still the same shape.
    @Test func aBodyOfAnotherShapeIsReadInFull() async {
        let body = String(
            decoding: SimulatedShimBody(sandboxID: "s", flavor: .go, seed: 3).render(elapsed: 3_600), as: UTF8.self)
        var lines = body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.last == "")
        lines.removeLast()
        let memFree = lines.firstIndex { $0.hasPrefix("kata_guest_meminfo{item=\"mem_free\"} ") }!
        let help = lines.firstIndex { $0.hasPrefix("# HELP ") }!
        func with(_ line: Int, _ text: String) -> [UInt8] {
            var changed = lines
            changed[line] = text
            return Array((changed.joined(separator: "\n") + "\n").utf8)
        }
        let sample = lines[memFree].split(separator: " ")[0]
        let original = Array(body.utf8)
        let sameShape: [(String, [UInt8])] = [
            ("the same body", original),
            ("another value, read by the cAdvisor mapping", with(memFree, "\(sample) 12345")),
            ("a value spelled another way", with(memFree, "\(sample) 1.2345e4")),
            ("+Inf", with(memFree, "\(sample) +Inf")), ("NaN", with(memFree, "\(sample) NaN")),
            ("-0", with(memFree, "\(sample) -0")),
            ("a timestamp", with(memFree, "\(sample) 7 1764000000000")),
            ("blanks after the value", with(memFree, "\(sample) 7 \t")),
            ("no newline at the end", Array(original.dropLast())),
        ]
        let otherShape: [(String, [UInt8])] = [
            ("a label value", with(memFree, lines[memFree].replacingOccurrences(of: "mem_free", with: "mem_frex"))),
            ("another blank before the value", with(memFree, "\(sample)  7")),
            ("a HELP text", with(help, lines[help] + ".")),
            ("a line more", Array((body + "kata_extra 1\n").utf8)),
            ("a comment more", Array((body + "# a comment\n").utf8)),
            ("a line less", Array((lines.dropLast().joined(separator: "\n") + "\n").utf8)),
            ("CRLF line ends", Array((lines.joined(separator: "\r\n") + "\r\n").utf8)),
        ]
        let labels = SandboxLabels(sandboxID: "s", criUID: "u", criName: "p", criNamespace: "n")
        for configuration in Self.configurations {
            for (what, next) in sameShape {
                let reads = await Self.readsInFull(
                    [original, next], labels: labels, configuration: configuration, what: what)
                #expect(reads == [true, false], "\(what)")
            }
            for (what, next) in otherShape {
                let reads = await Self.readsInFull(
                    [original, next], labels: labels, configuration: configuration, what: what)
                #expect(reads == [true, true], "\(what)")
            }
            // A value the full read rejects: rejected as the full read rejects it, and the shape stays.
            let invalid = await Self.readsInFull(
                [original, with(memFree, "\(sample) x"), with(memFree, "\(sample) 1 y"), original],
                labels: labels, configuration: configuration, what: "invalid value")
            #expect(invalid == [true, nil, nil, false])
        }
    }

    /// The shape belongs to the labels it was rendered under: other labels, another read in full.
    @Test func otherLabelsAreReadInFull() {
        let body = SimulatedShimBody(sandboxID: "s", flavor: .rust, seed: 3).render(elapsed: 60)
        let first = Collector.CollectionTarget(id: "s", labels: SandboxLabels(sandboxID: "s"))
        var publication: Collector.Publication?
        #expect(
            ReferencePipeline.difference(body, for: first, configuration: .init(), publication: &publication) == nil)
        let relabelled = Collector.CollectionTarget(
            id: "s", labels: SandboxLabels(sandboxID: "s", criUID: "u", criName: "p", criNamespace: "n"),
            shape: publication?.shape)
        #expect(
            ReferencePipeline.difference(body, for: relabelled, configuration: .init(), publication: &publication)
                == nil)
        #expect(publication?.readInFull == true)
    }

    /// Faulty and hostile bodies between ordinary ones: each published as the model publishes it.
    @Test(arguments: [ShimFlavor.go, .rust])
    func faultyBodiesBetweenOrdinaryOnes(flavor: ShimFlavor) async {
        let shim = SimulatedShimBody(sandboxID: "s", flavor: flavor, seed: 9)
        let bodies = [
            shim.render(elapsed: 60), shim.injectBody(elapsed: 75), shim.injectBody(elapsed: 90),
            shim.conflictBody(elapsed: 105), shim.conflictBody(elapsed: 120), shim.duplicateBody(elapsed: 135),
            shim.duplicateBody(elapsed: 150), SimulatedShimBody.garbageBody(), shim.render(elapsed: 165),
            shim.render(elapsed: 180), SimulatedShimBody.bombBody(series: 300), SimulatedShimBody.bombBody(series: 300),
        ]
        for labels in SandboxRendererTests.identities.suffix(1) {
            for configuration in Self.configurations {
                let reads = await Self.readsInFull(
                    bodies, labels: labels, configuration: configuration, what: "\(flavor)")
                #expect(
                    reads == [true, true, false, true, false, true, false, nil, true, false, true, false],
                    "\(flavor), \(labels)")
            }
        }
    }
}
