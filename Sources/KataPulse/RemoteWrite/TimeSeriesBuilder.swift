import NIOCore

/// Prometheus' staleness marker: the NaN a store reads as "this series ended here".
let staleMarker = Double(bitPattern: 0x7ff0_0000_0000_0002)

/// Turns one rendering (an exposition the agent made) into remote-write series at one timestamp, written
/// straight in protobuf's wire format as `WriteRequest.timeseries` entries (no message values: at 500
/// sandboxes SwiftProtobuf's messages and their size computations cost more than collecting the round).
///
/// Labels are sorted, `__name__` first among them by the sort, empty values left out (the exposition's way of
/// saying a label is absent), and the external labels added where a series does not carry the name itself.
/// Each series is identified by a hash of its name and labels, so that the next rendering of the same source
/// can tell which series ended.
struct TimeSeriesBuilder: ExpositionConsumer {
    /// Which families to take (by name), decided once per family.
    let includes: (String) -> Bool
    /// Sorted by name.
    let externalLabels: [Label]
    let timestamp: Int64
    /// When set, only series whose identity is in it are kept, each with the staleness marker as its value.
    let ending: Set<Int>?
    /// The kept series, each a `WriteRequest.timeseries` entry, back to back; `ends` has where each ends.
    private(set) var encoded: [UInt8] = []
    private(set) var ends: [Int] = []
    /// The identity of every series read (kept or not).
    private(set) var identities: Set<Int> = []
    private var included: [Bool] = []
    /// One series' label names and values, unescaped, back to back; `labels` ranges over it.
    private var arena: [UInt8] = []
    private var labels: [(name: Range<Int>, value: Range<Int>)] = []
    private var sizes: [Int] = []
    private var scratch: [UInt8] = []
    private static let nameLabel = Array("__name__".utf8)

    init(includes: @escaping (String) -> Bool, externalLabels: [Label], timestamp: Int64, ending: Set<Int>? = nil) {
        self.includes = includes
        self.externalLabels = externalLabels
        self.timestamp = timestamp
        self.ending = ending
    }

    mutating func beginFamily(named name: String) { included.append(includes(name)) }
    mutating func setHelp(_ help: String, of family: Int) {}
    mutating func setType(_ type: MetricType, of family: Int) {}

    mutating func addSample(_ sample: SampleLine, to family: Int) {
        guard included[family] else { return }
        arena.removeAll(keepingCapacity: true)
        labels.removeAll(keepingCapacity: true)
        add(Self.nameLabel, sample.bytes(sample.name))
        for span in sample.labels where !span.value.isEmpty {
            if span.escaped || !span.validUTF8 {
                add(sample.bytes(span.name), Array(sample.value(of: span, scratch: &scratch).utf8))
            } else {
                add(sample.bytes(span.name), sample.bytes(span.value))
            }
        }
        sortLabels()
        var hasher = Hasher()
        for label in labels {
            arena.withUnsafeBytes { bytes in
                hasher.combine(label.name.count)
                hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: bytes[label.name]))
                hasher.combine(label.value.count)
                hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: bytes[label.value]))
            }
        }
        let identity = hasher.finalize()
        identities.insert(identity)
        if let ending, !ending.contains(identity) { return }
        let own = labels.count
        for external in externalLabels where !hasLabel(named: external.name, among: own) {
            add(external.name.utf8, external.value.utf8)
        }
        if labels.count > own { sortLabels() }
        write(value: ending == nil ? sample.number : staleMarker)
    }

    private mutating func add<Name: Collection<UInt8>, Value: Collection<UInt8>>(_ name: Name, _ value: Value) {
        let nameStart = arena.count
        arena.append(contentsOf: name)
        let valueStart = arena.count
        arena.append(contentsOf: value)
        labels.append((nameStart..<valueStart, valueStart..<arena.count))
    }

    private func hasLabel(named name: String, among count: Int) -> Bool {
        labels.prefix(count).contains { arena[$0.name].elementsEqual(name.utf8) }
    }

    /// By name, bytewise: label names are ASCII, so this is the order of their strings.
    private mutating func sortLabels() {
        let arena = self.arena
        labels.sort { arena[$0.name].lexicographicallyPrecedes(arena[$1.name]) }
    }

    /// The series as one `WriteRequest.timeseries` entry (field 1): its `Label`s (name 1, value 2), then one
    /// `Sample` (value 1 as a double, timestamp 2 as a varint), zero fields left out as protobuf's own encoders
    /// leave them out.
    private mutating func write(value: Double) {
        sizes.removeAll(keepingCapacity: true)
        for label in labels {
            sizes.append(ProtobufWire.fieldSize(1, label.name.count) + ProtobufWire.fieldSize(2, label.value.count))
        }
        let stamp = UInt64(bitPattern: timestamp)
        let sampleSize = (value.bitPattern != 0 ? 9 : 0) + (stamp != 0 ? 1 + ProtobufWire.varintSize(stamp) : 0)
        let seriesSize = sizes.reduce(0) { $0 + ProtobufWire.fieldSize(1, $1) } + ProtobufWire.fieldSize(2, sampleSize)
        ProtobufWire.appendTag(1, length: seriesSize, to: &encoded)
        for (label, size) in zip(labels, sizes) {
            ProtobufWire.appendTag(1, length: size, to: &encoded)
            ProtobufWire.appendTag(1, length: label.name.count, to: &encoded)
            encoded.append(contentsOf: arena[label.name])
            ProtobufWire.appendTag(2, length: label.value.count, to: &encoded)
            encoded.append(contentsOf: arena[label.value])
        }
        ProtobufWire.appendTag(2, length: sampleSize, to: &encoded)
        if value.bitPattern != 0 {
            encoded.append(1 << 3 | 1)  // field 1, 64-bit
            withUnsafeBytes(of: value.bitPattern.littleEndian) { encoded.append(contentsOf: $0) }
        }
        if stamp != 0 {
            encoded.append(2 << 3)  // field 2, varint
            ProtobufWire.appendVarint(stamp, to: &encoded)
        }
        ends.append(encoded.count)
    }

    /// Reads `rendering` (an exposition the agent rendered, so it always parses) into a builder.
    static func read(_ rendering: ByteBuffer, into builder: TimeSeriesBuilder) -> TimeSeriesBuilder {
        let parser = ExpositionParser(limits: .unlimited)
        do {
            return try rendering.withUnsafeReadableBytes { raw in
                try parser.read(raw.bindMemory(to: UInt8.self), into: builder)
            }
        } catch {
            // The agent's own renderings always parse; a failure here is a bug, not input to survive.
            preconditionFailure("a rendering did not parse: \(error)")
        }
    }
}

/// The pieces of protobuf's wire format remote write needs: varints and length-delimited fields.
enum ProtobufWire {
    static func varintSize(_ value: UInt64) -> Int {
        max(1, (64 - value.leadingZeroBitCount + 6) / 7)
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    /// The bytes of a length-delimited field of `length` bytes: its tag, its length, its contents.
    static func fieldSize(_ field: Int, _ length: Int) -> Int { 1 + varintSize(UInt64(length)) + length }

    /// A length-delimited field's tag and length (fields 1 to 15 have one-byte tags).
    static func appendTag(_ field: Int, length: Int, to out: inout [UInt8]) {
        out.append(UInt8(field << 3 | 2))
        appendVarint(UInt64(length), to: &out)
    }
}
