import NIOCore

/// Why a body was rejected by ``ExpositionParser``.
public struct ExpositionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The broad class of a rejection; each is counted separately.
    public enum Kind: String, Sendable, Equatable {
        /// The bytes are not valid text format 0.0.4.
        case syntax
        /// The body is valid but exceeds one of the ``ExpositionLimits``.
        case limit
    }

    public var kind: Kind
    /// 1-based line number where the problem was found.
    public var line: Int
    public var message: String

    public var description: String { "line \(line): \(message)" }

    static func syntax(_ line: Int, _ message: String) -> ExpositionError {
        ExpositionError(kind: .syntax, line: line, message: message)
    }

    static func limit(_ line: Int, _ message: String) -> ExpositionError {
        ExpositionError(kind: .limit, line: line, message: message)
    }
}

/// A byte-level parser for the Prometheus text exposition format 0.0.4, into ``MetricFamily`` values.
///
/// What it accepts and rejects is ``ExpositionReader``'s: what Prometheus' own text parser accepts, with
/// timestamps dropped and a line number for every rejection.
public struct ExpositionParser: Sendable {
    public var limits: ExpositionLimits

    public init(limits: ExpositionLimits = .default) {
        self.limits = limits
    }

    /// Parses a whole body into families, in order of first appearance.
    public func parse(_ bytes: [UInt8]) throws(ExpositionError) -> [MetricFamily] {
        try bytes.withUnsafeBufferPointer { buffer throws(ExpositionError) in try parse(buffer) }
    }

    /// Parses a body held in a buffer (the agent's own renderings), without copying it out.
    func parse(_ buffer: ByteBuffer) throws(ExpositionError) -> [MetricFamily] {
        // `withUnsafeReadableBytes` rethrows untyped errors: carry the typed one out in a Result.
        try buffer.withUnsafeReadableBytes { raw in
            Result { () throws(ExpositionError) in try parse(raw.bindMemory(to: UInt8.self)) }
        }.get()
    }

    func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(ExpositionError) -> [MetricFamily] {
        try read(buffer, into: FamilyBuilder()).families
    }

    /// Parses a body given as a string (tests and fixtures).
    public func parse(_ text: String) throws(ExpositionError) -> [MetricFamily] {
        try parse(Array(text.utf8))
    }

    /// Reads a body into a consumer, under these limits, and returns the consumer.
    func read<Consumer: ExpositionConsumer>(_ body: [UInt8], into consumer: consuming Consumer)
        throws(ExpositionError) -> Consumer
    {
        var reader = ExpositionReader(limits: limits, consumer: consumer)
        try body.withUnsafeBufferPointer { buffer throws(ExpositionError) in try reader.read(buffer) }
        return reader.consumer
    }

    /// Reads a body into a consumer, under these limits, and returns the consumer.
    func read<Consumer: ExpositionConsumer>(_ body: UnsafeBufferPointer<UInt8>, into consumer: consuming Consumer)
        throws(ExpositionError) -> Consumer
    {
        var reader = ExpositionReader(limits: limits, consumer: consumer)
        try reader.read(body)
        return reader.consumer
    }
}

/// Builds ``MetricFamily`` values from what a reader reads.
struct FamilyBuilder: ExpositionConsumer {
    private(set) var families: [MetricFamily] = []
    private var labelNames = NameTable()
    private var unescaped: [UInt8] = []

    mutating func beginFamily(named name: String) {
        families.append(MetricFamily(name: name))
    }

    mutating func setHelp(_ help: String, of family: Int) {
        families[family].help = help
    }

    mutating func setType(_ type: MetricType, of family: Int) {
        families[family].type = type
    }

    mutating func addSample(_ sample: SampleLine, to family: Int) {
        var labels: [Label] = []
        labels.reserveCapacity(sample.labels.count)
        for label in sample.labels {
            let id = labelNames.intern(sample.bytes(label.name))
            labels.append(Label(labelNames.strings[id], sample.value(of: label, scratch: &unescaped)))
        }
        families[family].samples.append(Sample(name: sample.nameString, labels: labels, value: sample.number))
    }
}
