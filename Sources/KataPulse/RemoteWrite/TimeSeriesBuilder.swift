import NIOCore
import PrometheusRemoteWrite

/// Prometheus' staleness marker: the NaN a store reads as "this series ended here".
let staleMarker = Double(bitPattern: 0x7ff0_0000_0000_0002)

/// Turns one rendering (an exposition the agent made) into remote-write series at one timestamp.
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

    private(set) var series: [Prometheus_TimeSeries] = []
    /// The identity of every series read (kept or not).
    private(set) var identities: Set<Int> = []
    private var included: [Bool] = []
    private var scratch: [UInt8] = []
    private var labels: [Prometheus_Label] = []

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
        labels.removeAll(keepingCapacity: true)
        labels.append(.init(name: "__name__", value: sample.nameString))
        var hasher = Hasher()
        hasher.combine(sample.nameString)
        for span in sample.labels where !span.value.isEmpty {
            let name = String(decoding: sample.bytes(span.name), as: UTF8.self)
            let value = sample.value(of: span, scratch: &scratch)
            labels.append(.init(name: name, value: value))
        }
        labels.sort { $0.name < $1.name }
        for label in labels.dropFirst() where label.name != "__name__" {
            hasher.combine(label.name)
            hasher.combine(label.value)
        }
        let identity = hasher.finalize()
        identities.insert(identity)
        if let ending, !ending.contains(identity) { return }
        var combined = labels
        for external in externalLabels where !labels.contains(where: { $0.name == external.name }) {
            combined.append(.init(name: external.name, value: external.value))
        }
        if combined.count > labels.count { combined.sort { $0.name < $1.name } }
        var point = Prometheus_Sample()
        point.value = ending == nil ? sample.number : staleMarker
        point.timestamp = timestamp
        var timeSeries = Prometheus_TimeSeries()
        timeSeries.labels = combined
        timeSeries.samples = [point]
        series.append(timeSeries)
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

extension Prometheus_Label {
    init(name: String, value: String) {
        self.init()
        self.name = name
        self.value = value
    }
}
