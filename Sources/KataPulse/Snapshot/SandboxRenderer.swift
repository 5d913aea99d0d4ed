import Glibc
import NIOCore

/// Writes one sandbox's published rendering straight from its shim's body, in the one pass that reads it.
///
/// It applies ``Relabeler``'s contract to the bytes as ``ExpositionReader`` validates them: each sample line is
/// written once, with its own labels copied (values are already in the one canonical escaped form), the
/// sandbox's labels appended as pre-rendered bytes and the value copied when it is written as the renderer
/// would write it. Only the samples the cAdvisor mapping reads are kept, as ``GuestReadings``. The result is
/// byte for byte what parsing, ``Relabeler``, ``CadvisorMapper`` and ``RenderedSandbox/init(id:families:labels:)``
/// produce; the differential tests hold it to that.
struct SandboxRenderer: ExpositionConsumer {
    /// Where a family of the body goes.
    private enum Route {
        case output(Int)
        /// Under a prefix only the agent writes.
        case reserved
        /// Under a name an earlier family already took (`go_x` beside `kata_shim_go_x`).
        case duplicate
        /// The kata families are not published.
        case ignored
    }

    private struct OutputFamily {
        let name: String
        var help: String?
        var type = MetricType.untyped
        /// Whether the family was renamed, so that its samples' names are too.
        let renames: Bool
        /// Where its sample lines are in ``lines``; one range unless the body interleaves families.
        var segments: [Range<Int>] = []
        var sampleCount = 0
        /// A cAdvisor family, rendered from the mapping's rows rather than from the body.
        var isRow = false
    }

    private let relabels: Bool
    /// `sandbox_id="…",cri_uid="…",cri_name="…",cri_namespace="…"`, rendered once.
    private let identity: [UInt8]
    private var routes: [Route] = []
    private var outputs: [OutputFamily] = []
    private var outputNames: Set<String> = []
    /// Sample lines, in the order of the body.
    private var lines: [UInt8] = []
    private var current = -1
    private var currentStart = 0
    private var series = SeriesSet()
    /// What the cAdvisor mapping reads, when it runs; the source of each of the body's families.
    private(set) var guest: GuestReadings?
    private var guestSources: [GuestReadings.Source?] = []
    private var unescaped: [UInt8] = []
    /// The current sample's own `name="value"` pairs in ``lines``.
    private var pairs: [Range<Int>] = []
    private(set) var duplicateSeries = 0
    private(set) var reservedFamilySamples = 0
    /// What ``BodyShape`` keeps: where each sample's value begins in the body, in the body's order; where each
    /// written value is in ``lines`` (then, after ``rendered(id:labels:adding:)``, in the rendering, in its
    /// order) with the sample it is the value of; the guest value each sample set.
    private(set) var valueStarts: [Int32] = []
    private(set) var writtenValues: [(position: Int32, sample: Int32)] = []
    private(set) var guestCells: [(sample: Int32, cell: GuestReadings.Cell)] = []
    /// Which of the rendering's families are cAdvisor rows.
    private(set) var rowFamilies: [Int] = []

    /// - Parameters:
    ///   - labels: the sandbox's labels, appended to every kata sample.
    ///   - relabels: whether the kata families are published.
    ///   - readsGuest: whether to keep what the cAdvisor mapping reads.
    init(labels: SandboxLabels, relabels: Bool, readsGuest: Bool, expectedSize: Int) {
        self.relabels = relabels
        var identity: [UInt8] = []
        for label in labels.labels {
            if !identity.isEmpty { identity.append(UInt8(ascii: ",")) }
            identity.append(contentsOf: label.name.utf8)
            identity.append(contentsOf: "=\"".utf8)
            ExpositionRenderer.appendEscaped(label.value, quotes: true, to: &identity)
            identity.append(UInt8(ascii: "\""))
        }
        self.identity = identity
        if readsGuest { guest = GuestReadings() }
        if relabels { lines.reserveCapacity(expectedSize + expectedSize / 2) }
    }

    mutating func beginFamily(named name: String) {
        if guest != nil { guestSources.append(GuestReadings.Source(family: name)) }
        guard relabels else { return routes.append(.ignored) }
        let renamed = Relabeler.renamed(name)
        if Relabeler.reservedPrefixes.contains(where: { renamed.hasPrefix($0) }) {
            routes.append(.reserved)
        } else if !outputNames.insert(renamed).inserted {
            routes.append(.duplicate)
        } else {
            routes.append(.output(outputs.count))
            outputs.append(OutputFamily(name: renamed, renames: renamed != name))
        }
    }

    mutating func setHelp(_ help: String, of family: Int) {
        if case .output(let index) = routes[family] { outputs[index].help = help }
    }

    mutating func setType(_ type: MetricType, of family: Int) {
        if case .output(let index) = routes[family] { outputs[index].type = type }
    }

    mutating func addSample(_ sample: SampleLine, to family: Int) {
        let ordinal = Int32(truncatingIfNeeded: valueStarts.count)
        valueStarts.append(Int32(truncatingIfNeeded: sample.value.lowerBound))
        if guest != nil, let source = guestSources[family], let cell = guest!.record(sample, of: source) {
            guestCells.append((ordinal, cell))
        }
        switch routes[family] {
        case .output(let index): write(sample, to: index)
        case .reserved: reservedFamilySamples += 1
        case .duplicate: duplicateSeries += 1
        case .ignored: break
        }
    }

    private mutating func write(_ sample: SampleLine, to output: Int) {
        let start = lines.count
        if current != output {
            closeSegment()
            current = output
            currentStart = start
        }
        let name = sample.bytes(sample.name)
        if outputs[output].renames && (hasPrefix(name, "go_") || hasPrefix(name, "process_")) {
            lines.append(contentsOf: "kata_shim_".utf8)
        }
        lines.append(contentsOf: name)
        let nameEnd = lines.count
        let trailing = Relabeler.trailingLabel(of: outputs[output].type)
        var held: LabelSpan?
        pairs.removeAll(keepingCapacity: true)
        for label in sample.labels {
            let labelName = sample.bytes(label.name)
            if hasPrefix(labelName, "__") || Self.isSandboxLabel(labelName) { continue }
            if let trailing, labelName.elementsEqual(trailing.utf8) {
                held = label
                continue
            }
            pairs.append(writePair(label, of: sample, first: pairs.isEmpty))
        }
        lines.append(UInt8(ascii: pairs.isEmpty ? "{" : ","))
        lines.append(contentsOf: identity)
        if let held { pairs.append(writePair(held, of: sample, first: false)) }
        lines.append(UInt8(ascii: "}"))
        let isNew = lines.withUnsafeBufferPointer { buffer in
            // The identity's labels are on every series: the name and the sample's own pairs decide. Pairs are
            // hashed in byte order, so that the same set in another order hashes the same; a pair ends at its
            // closing quote, so their concatenation is unambiguous.
            sortPairs(in: buffer)
            var hasher = Hasher()
            hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[start..<nameEnd])))
            for pair in pairs {
                hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[pair])))
            }
            return series.insert(start..<buffer.count, hash: hasher.finalize(), in: buffer)
        }
        guard isNew else {
            lines.removeLast(lines.count - start)
            duplicateSeries += 1
            return
        }
        lines.append(UInt8(ascii: " "))
        writtenValues.append((Int32(truncatingIfNeeded: lines.count), Int32(truncatingIfNeeded: valueStarts.count - 1)))
        Self.appendValue(sample.bytes(sample.value), canonical: sample.valueIsCanonical, to: &lines)
        lines.append(UInt8(ascii: "\n"))
        outputs[output].sampleCount += 1
    }

    /// Writes a validated value as the renderer would: as written when that is its canonical form.
    @inline(__always)
    static func appendValue(_ value: UnsafeBufferPointer<UInt8>, canonical: Bool, to out: inout [UInt8]) {
        if canonical {
            out.append(contentsOf: value)
        } else {
            ExpositionRenderer.appendValue(parseValue(value)!, to: &out)
        }
    }

    /// Writes `,name="value"` (or `{…`) and returns where `name="value"` is in ``lines``.
    private mutating func writePair(_ label: LabelSpan, of sample: SampleLine, first: Bool) -> Range<Int> {
        lines.append(UInt8(ascii: first ? "{" : ","))
        let start = lines.count
        lines.append(contentsOf: sample.bytes(label.name))
        lines.append(contentsOf: "=\"".utf8)
        if label.validUTF8 {
            // As written, escapes and all: `\\`, `\"` and `\n` are the only escapes, the renderer's own.
            lines.append(contentsOf: sample.bytes(label.value))
        } else {
            let raw = sample.bytes(label.value)
            let value: String
            if label.escaped {
                unescapeLabelValue(raw, into: &unescaped)
                value = String(decoding: unescaped, as: UTF8.self)
            } else {
                value = String(decoding: raw, as: UTF8.self)
            }
            ExpositionRenderer.appendEscaped(value, quotes: true, to: &lines)
        }
        lines.append(UInt8(ascii: "\""))
        return start..<lines.count
    }

    /// Puts ``pairs`` in byte order (an insertion sort: they are few, and mostly in order already).
    private mutating func sortPairs(in buffer: UnsafeBufferPointer<UInt8>) {
        guard pairs.count > 1 else { return }
        for index in 1..<pairs.count {
            var position = index
            let pair = pairs[index]
            while position > 0 && lessBytes(buffer, pair, pairs[position - 1]) {
                pairs[position] = pairs[position - 1]
                position -= 1
            }
            pairs[position] = pair
        }
    }

    private mutating func closeSegment() {
        if current >= 0 && lines.count > currentStart { outputs[current].segments.append(currentStart..<lines.count) }
        current = -1
    }

    /// The sandbox's rendering: these families and `extra` (the cAdvisor rows), sorted by name, empty ones left
    /// out, in one buffer of exactly its size.
    mutating func rendered(id: String, labels: SandboxLabels, adding extra: [MetricFamily]) -> RenderedSandbox {
        closeSegment()
        for family in extra where !family.samples.isEmpty {
            let start = lines.count
            ExpositionRenderer.appendSamples(family.samples, to: &lines)
            var output = OutputFamily(name: family.name, help: family.help, type: family.type, renames: false)
            output.segments = [start..<lines.count]
            output.sampleCount = family.samples.count
            output.isRow = true
            outputs.append(output)
        }
        let published = outputs.filter { $0.sampleCount > 0 }.sorted { $0.name < $1.name }
        var values: [(position: Int32, sample: Int32)] = []
        values.reserveCapacity(writtenValues.count)
        var headers: [UInt8] = []
        var headerEnds: [Int] = []
        headerEnds.reserveCapacity(published.count)
        for family in published {
            ExpositionRenderer.appendHeader(name: family.name, help: family.help, type: family.type, to: &headers)
            headerEnds.append(headers.count)
        }
        let size = headers.count + published.reduce(0) { $0 + $1.segments.reduce(0) { $0 + $1.count } }
        var buffer = ByteBufferAllocator().buffer(capacity: size)
        var families: [RenderedFamily] = []
        families.reserveCapacity(published.count)
        headers.withUnsafeBufferPointer { headers in
            lines.withUnsafeBufferPointer { lines in
                var headerStart = 0
                for (family, headerEnd) in zip(published, headerEnds) {
                    let start = buffer.writerIndex
                    buffer.writeBytes(
                        UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: headers[headerStart..<headerEnd])))
                    headerStart = headerEnd
                    let linesStart = buffer.writerIndex
                    if family.isRow { rowFamilies.append(families.count) }
                    for segment in family.segments {
                        if !family.isRow { move(writtenValues, in: segment, to: buffer.writerIndex, into: &values) }
                        buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: lines[segment])))
                    }
                    families.append(
                        RenderedFamily(
                            header: start..<linesStart, nameLength: family.name.utf8.count,
                            hasHelp: family.help != nil, type: family.type,
                            sampleLines: linesStart..<buffer.writerIndex,
                            sampleCount: family.sampleCount))
                }
            }
        }
        writtenValues = values
        return RenderedSandbox(id: id, labels: labels, buffer: buffer, families: families)
    }

    /// Appends the values written in `segment` of ``lines`` (sorted by position) to `values`, at their position
    /// in the rendering, where the segment begins at `start`.
    private func move(
        _ written: [(position: Int32, sample: Int32)], in segment: Range<Int>, to start: Int,
        into values: inout [(position: Int32, sample: Int32)]
    ) {
        var low = 0
        var high = written.count
        while low < high {
            let middle = (low + high) / 2
            if Int(written[middle].position) < segment.lowerBound { low = middle + 1 } else { high = middle }
        }
        while low < written.count && Int(written[low].position) < segment.upperBound {
            values.append(
                (
                    Int32(truncatingIfNeeded: start + Int(written[low].position) - segment.lowerBound),
                    written[low].sample
                ))
            low += 1
        }
    }

    private static func isSandboxLabel(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        // sandbox_id, cri_uid, cri_name, cri_namespace
        guard name.count >= 7, name[0] == UInt8(ascii: "s") || name[0] == UInt8(ascii: "c") else { return false }
        return SandboxLabels.names.contains { name.elementsEqual($0.utf8) }
    }
}

@inline(__always)
private func hasPrefix(_ bytes: UnsafeBufferPointer<UInt8>, _ prefix: StaticString) -> Bool {
    prefix.withUTF8Buffer { prefix in bytes.count >= prefix.count && bytes.prefix(prefix.count).elementsEqual(prefix) }
}

/// Byte order of two ranges of `buffer`.
private func lessBytes(_ buffer: UnsafeBufferPointer<UInt8>, _ lhs: Range<Int>, _ rhs: Range<Int>) -> Bool {
    let common = min(lhs.count, rhs.count)
    let order =
        common == 0 ? 0 : memcmp(buffer.baseAddress! + lhs.lowerBound, buffer.baseAddress! + rhs.lowerBound, common)
    return order != 0 ? order < 0 : lhs.count < rhs.count
}
