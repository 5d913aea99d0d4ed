import Glibc
import NIOCore

/// Everything of a sandbox's last fully read body but its values, and what it was published as.
///
/// A shim's body keeps its lines from one round to the next; only the values move. A body of the same shape
/// is published from its values alone: its lines are hashed and its values checked, where a full read
/// validates every name and label, relabels, de-duplicates, sorts and maps to cAdvisor again. Everything but
/// the values is copied from the last rendering, so the result is byte for byte what the full read writes
/// (the differential tests and the fuzz target hold it to that). Any difference in any line, or in the labels,
/// and the body is read in full, which makes the next shape.
///
/// The hash is the standard library's SipHash, seeded per process: a tenant cannot choose a line that hashes as
/// another. Kept per sandbox beside its rendering (whose buffer it shares): 2 bytes per line of the body and 4
/// per published value.
public struct BodyShape: Sendable {
    /// The labels the rendering carries.
    private let labels: SandboxLabels
    /// The last rendering: every byte but the values is copied from it.
    private var rendering: RenderedSandbox
    /// Per line of the body, how many of its bytes are its shape: up to its value for a sample line; the whole
    /// line, flagged with ``wholeLine``, for a line without a value (comments, blank lines).
    private let lines: [UInt16]
    private static let wholeLine: UInt16 = 0x8000
    /// Every line's shape bytes, hashed in order.
    private let hash: Int
    private let sampleCount: Int
    /// The rendering's values, in its order: where each begins, as the distance from where the one before
    /// began, and the sample of the body (numbered in order) it is the value of.
    private var valueGaps: [UInt16]
    private let valueSamples: [UInt16]
    /// The rendering's cAdvisor families (their indices in its ``RenderedSandbox/families``), rendered anew.
    private let rowFamilies: [Int]
    /// What the cAdvisor mapping read, and the sample that set each value.
    private let guest: GuestReadings?
    private let guestCells: [(sample: Int32, cell: GuestReadings.Cell)]
    /// The rendering's bytes but its values and its cAdvisor sample lines: the same for every body of the shape,
    /// so that a rendering is written in a buffer of exactly its size (a buffer that grows doubles).
    private let fixedSize: Int
    let duplicateSeries: Int
    let reservedFamilySamples: Int

    /// The shape of `body`, which `renderer` read and rendered as `rendering`; nil for a body beyond what a
    /// shape holds (a line over 32 KiB, over 65,536 samples).
    init?(body: UnsafeBufferPointer<UInt8>, renderer: SandboxRenderer, rendering: RenderedSandbox) {
        let starts = renderer.valueStarts
        guard starts.count <= Int(UInt16.max) + 1 else { return nil }
        var lines: [UInt16] = []
        var hasher = Hasher()
        var sample = 0
        var bodyLines = BodyLines(body)
        while let (lineStart, lineEnd) = bodyLines.next() {
            let length: Int
            let entry: UInt16
            if sample < starts.count && Int(starts[sample]) < lineEnd {
                length = Int(starts[sample]) - lineStart
                entry = UInt16(truncatingIfNeeded: length)
                sample += 1
            } else {
                length = lineEnd - lineStart
                entry = Self.wholeLine | UInt16(truncatingIfNeeded: length)
            }
            guard length < Int(Self.wholeLine) else { return nil }
            Self.combine(body, lineStart..<lineStart + length, into: &hasher)
            lines.append(entry)
        }
        guard sample == starts.count else { return nil }
        var gaps: [UInt16] = []
        var samples: [UInt16] = []
        gaps.reserveCapacity(renderer.writtenValues.count)
        samples.reserveCapacity(renderer.writtenValues.count)
        var previous = 0
        for value in renderer.writtenValues {
            let gap = Int(value.position) - previous
            guard (0...Int(UInt16.max)).contains(gap) else { return nil }
            gaps.append(UInt16(gap))
            samples.append(UInt16(value.sample))
            previous = Int(value.position)
        }
        let valueBytes = rendering.buffer.withUnsafeReadableBytes { rendered in
            renderer.writtenValues.reduce(0) { total, value in
                let start = rendered.baseAddress! + Int(value.position)
                let newline = memchr(start, 0x0A, rendered.count - Int(value.position))!
                return total + start.distance(to: UnsafeRawPointer(newline))
            }
        }
        let rowBytes = renderer.rowFamilies.reduce(0) { $0 + rendering.families[$1].sampleLines.count }
        self.fixedSize = rendering.buffer.readableBytes - valueBytes - rowBytes
        self.labels = rendering.labels
        self.rendering = rendering
        self.lines = lines
        self.hash = hasher.finalize()
        self.sampleCount = starts.count
        self.valueGaps = gaps
        self.valueSamples = samples
        self.rowFamilies = renderer.rowFamilies
        self.guest = renderer.guest
        self.guestCells = renderer.guestCells
        self.duplicateSeries = renderer.duplicateSeries
        self.reservedFamilySamples = renderer.reservedFamilySamples
    }

    /// Publishes `body` under `labels` if it has this shape, with `rows` mapping its guest readings to the
    /// cAdvisor families; returns the rendering and the shape for the next body, or nil for a body of another
    /// shape (or one the full read would reject), which must be read in full.
    func render(
        _ body: UnsafeBufferPointer<UInt8>, labels: SandboxLabels, rows: (GuestReadings) -> [MetricFamily]
    ) -> (RenderedSandbox, BodyShape)? {
        guard labels == self.labels else { return nil }
        // Where each sample's value is in the body; the end negated when the value is not canonical.
        var values = [Int32](repeating: 0, count: 2 * sampleCount)
        guard readValues(of: body, into: &values) else { return nil }
        var published: [MetricFamily] = []
        if var readings = guest {
            for (sample, cell) in guestCells {
                let start = Int(values[2 * Int(sample)])
                let end = abs(Int(values[2 * Int(sample) + 1]))
                readings.set(cell, to: parseValue(UnsafeBufferPointer(rebasing: body[start..<end]))!)
            }
            published = rows(readings).filter { !$0.samples.isEmpty }
        }
        guard published.count == rowFamilies.count else { return nil }
        var rowLines: [UInt8] = []
        var rowEnds: [Int] = []
        for row in published {
            ExpositionRenderer.appendSamples(row.samples, to: &rowLines)
            rowEnds.append(rowLines.count)
        }
        // Values not in their canonical form are re-written once, here, in the rendering's order.
        var rewritten: [UInt8] = []
        var size = fixedSize + rowLines.count
        for sample in valueSamples {
            let (start, end) = (Int(values[2 * Int(sample)]), Int(values[2 * Int(sample) + 1]))
            if end > 0 {
                size += end - start
            } else {
                let before = rewritten.count
                SandboxRenderer.appendValue(
                    UnsafeBufferPointer(rebasing: body[start..<(-end)]), canonical: false, to: &rewritten)
                size += rewritten.count - before
                rewritten.append(0x0A)
            }
        }
        var buffer = ByteBufferAllocator().buffer(capacity: size)
        var families: [RenderedFamily] = []
        var gaps: [UInt16] = []
        let written = rendering.buffer.withUnsafeReadableBytes { old in
            values.withUnsafeBufferPointer { values in
                write(
                    from: old, values: values, of: body, rewritten: rewritten, rows: published, rowLines: rowLines,
                    rowEnds: rowEnds, into: &buffer, families: &families, gaps: &gaps)
            }
        }
        guard written else { return nil }
        assert(buffer.writerIndex == size, "a rendering of \(buffer.writerIndex) bytes, \(size) expected")
        let sandbox = RenderedSandbox(id: rendering.id, labels: labels, buffer: buffer, families: families)
        var next = self
        next.rendering = sandbox
        next.valueGaps = gaps
        return (sandbox, next)
    }

    /// Writes the rendering of a body of this shape: the last rendering (`old`) with the body's values (where
    /// ``readValues(of:into:)`` found them, those not canonical from `rewritten`, one per line, in order) and
    /// `rows` as the cAdvisor families (their sample lines rendered in
    /// `rowLines`, each ending at its `rowEnds`); false when the rows are not the last ones' families or a
    /// value's distance from the one before is past what a shape holds.
    private func write(
        from old: UnsafeRawBufferPointer, values: UnsafeBufferPointer<Int32>, of body: UnsafeBufferPointer<UInt8>,
        rewritten: [UInt8], rows: [MetricFamily], rowLines: [UInt8], rowEnds: [Int], into buffer: inout ByteBuffer,
        families: inout [RenderedFamily], gaps: inout [UInt16]
    ) -> Bool {
        families.reserveCapacity(rendering.families.count)
        gaps.reserveCapacity(valueGaps.count)
        var nextRewritten = 0
        var valueIndex = 0
        var oldValue = 0
        var newValue = 0
        var nextRow = 0
        for (index, family) in rendering.families.enumerated() {
            let headerStart = buffer.writerIndex
            buffer.writeBytes(
                UnsafeRawBufferPointer(rebasing: old[Int(family.header.lowerBound)..<Int(family.header.upperBound)]))
            let linesStart = buffer.writerIndex
            var sampleCount = family.sampleCount
            if nextRow < rowFamilies.count && rowFamilies[nextRow] == index {
                let row = rows[nextRow]
                let rowStart = nextRow == 0 ? 0 : rowEnds[nextRow - 1]
                let rowEnd = rowEnds[nextRow]
                nextRow += 1
                var name = row.name
                let sameName = name.withUTF8 { name in
                    family.name.count == name.count
                        && memcmp(old.baseAddress! + Int(family.name.lowerBound), name.baseAddress!, name.count) == 0
                }
                guard sameName else { return false }
                _ = rowLines.withUnsafeBytes {
                    buffer.writeBytes(UnsafeRawBufferPointer(rebasing: $0[rowStart..<rowEnd]))
                }
                sampleCount = row.samples.count
            } else {
                var copied = Int(family.sampleLines.lowerBound)
                let end = Int(family.sampleLines.upperBound)
                while valueIndex < valueGaps.count && oldValue + Int(valueGaps[valueIndex]) < end {
                    oldValue += Int(valueGaps[valueIndex])
                    buffer.writeBytes(UnsafeRawBufferPointer(rebasing: old[copied..<oldValue]))
                    let gap = buffer.writerIndex - newValue
                    guard gap <= Int(UInt16.max) else { return false }
                    gaps.append(UInt16(gap))
                    newValue = buffer.writerIndex
                    let sample = Int(valueSamples[valueIndex])
                    let valueEnd = Int(values[2 * sample + 1])
                    let value = UnsafeBufferPointer(rebasing: body[Int(values[2 * sample])..<abs(valueEnd)])
                    if valueEnd > 0 {
                        buffer.writeBytes(UnsafeRawBufferPointer(value))
                    } else {
                        let end = rewritten[nextRewritten...].firstIndex(of: 0x0A)!
                        buffer.writeBytes(rewritten[nextRewritten..<end])
                        nextRewritten = end + 1
                    }
                    // A value ends its line.
                    let newline = memchr(old.baseAddress! + oldValue, 0x0A, end - oldValue)!
                    copied = old.baseAddress!.distance(to: UnsafeRawPointer(newline))
                    valueIndex += 1
                }
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: old[copied..<end]))
            }
            families.append(
                RenderedFamily(
                    header: headerStart..<linesStart, nameLength: family.name.count, hasHelp: family.hasHelp,
                    type: family.type, sampleLines: linesStart..<buffer.writerIndex, sampleCount: sampleCount))
        }
        return true
    }

    /// Checks that every line of `body` has this shape and that its value and timestamp read as the full read
    /// would read them; records where each value is.
    private func readValues(of body: UnsafeBufferPointer<UInt8>, into values: inout [Int32]) -> Bool {
        var hasher = Hasher()
        var line = 0
        var sample = 0
        var bodyLines = BodyLines(body)
        while let (lineStart, lineEnd) = bodyLines.next() {
            guard line < lines.count else { return false }
            let entry = lines[line]
            line += 1
            let length = Int(entry & ~Self.wholeLine)
            if entry & Self.wholeLine != 0 {
                guard lineEnd - lineStart == length else { return false }
            } else {
                var end = lineEnd
                if end > lineStart && body[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let valueStart = lineStart + length
                guard valueStart < end, !ASCII.isBlank(body[valueStart]),
                    case .value(let value, let canonical) = readSampleTail(body, from: valueStart, to: end)
                else { return false }
                values[2 * sample] = Int32(truncatingIfNeeded: value.lowerBound)
                let valueEnd = Int32(truncatingIfNeeded: value.upperBound)
                values[2 * sample + 1] = canonical ? valueEnd : -valueEnd
                sample += 1
            }
            Self.combine(body, lineStart..<lineStart + length, into: &hasher)
        }
        return line == lines.count && sample == sampleCount && hasher.finalize() == hash
    }

    /// Feeds `range` of `body` to `hasher` in 8-byte words (a fraction of the instructions of `combine(bytes:)`
    /// for lines of tens of bytes); the last word holds the bytes left. The ranges' lengths are the shape's, so
    /// that words of two ranges cannot run together ambiguously.
    @inline(__always)
    private static func combine(_ body: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into hasher: inout Hasher) {
        guard let base = body.baseAddress else { return }
        var offset = range.lowerBound
        while offset + 8 <= range.upperBound {
            hasher.combine(UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self))
            offset += 8
        }
        var last: UInt64 = 0
        var shift: UInt64 = 0
        while offset < range.upperBound {
            last |= UInt64(base[offset]) << shift
            shift += 8
            offset += 1
        }
        hasher.combine(last)
    }

}

/// The lines of a body, as ``ExpositionReader`` splits them: each one's start and end (before its `\n`).
private struct BodyLines {
    private let body: UnsafeBufferPointer<UInt8>
    private var lineStart = 0

    init(_ body: UnsafeBufferPointer<UInt8>) { self.body = body }

    mutating func next() -> (start: Int, end: Int)? {
        guard lineStart < body.count, let base = body.baseAddress else { return nil }
        var lineEnd = body.count
        if let newline = memchr(base + lineStart, 0x0A, body.count - lineStart) {
            lineEnd = base.distance(to: newline.assumingMemoryBound(to: UInt8.self))
        }
        defer { lineStart = lineEnd + 1 }
        return (lineStart, lineEnd)
    }
}
