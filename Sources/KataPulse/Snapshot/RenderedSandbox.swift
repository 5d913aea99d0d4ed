import NIOCore

/// One family of a ``RenderedSandbox``: where its header and its sample lines are in the sandbox's buffer.
///
/// Positions rather than strings: a node keeps one per sandbox and family, and the bytes are in the buffer.
public struct RenderedFamily: Sendable, Equatable {
    /// Its `# HELP` line (when it has one) and its `# TYPE` line.
    let header: Range<Int32>
    /// Its name, in the `# TYPE` line.
    let name: Range<Int32>
    let hasHelp: Bool
    public let type: MetricType
    /// Its sample lines.
    let sampleLines: Range<Int32>
    let samples: Int32

    public var sampleCount: Int { Int(samples) }

    /// The family whose header (``ExpositionRenderer/appendHeader(name:help:type:to:)``) was written at `header`
    /// and whose samples at `sampleLines`.
    init(
        header: Range<Int>, nameLength: Int, hasHelp: Bool, type: MetricType, sampleLines: Range<Int>, sampleCount: Int
    ) {
        // The header ends with `# TYPE <name> <type>\n`.
        let nameEnd = header.upperBound - type.rawValue.utf8.count - 2
        self.header = Int32(header.lowerBound)..<Int32(header.upperBound)
        self.name = Int32(nameEnd - nameLength)..<Int32(nameEnd)
        self.hasHelp = hasHelp
        self.type = type
        self.sampleLines = Int32(sampleLines.lowerBound)..<Int32(sampleLines.upperBound)
        self.samples = Int32(sampleCount)
    }
}

/// One sandbox's relabelled families, rendered once when they were collected.
///
/// The body is a complete exposition on its own (served by `/metrics?sandbox=ID`), and the one copy of these
/// series the agent keeps: the snapshot's body is a list of slices of it, never a merged copy.
public struct RenderedSandbox: Sendable {
    public let id: String
    /// The `sandbox_id` and `cri_*` labels its series were rendered with.
    public let labels: SandboxLabels
    /// A standalone exposition of this sandbox: HELP, TYPE and samples per family, sorted by name.
    public let buffer: ByteBuffer
    public let families: [RenderedFamily]

    /// The body as bytes (a copy; for tests and tools).
    public var body: [UInt8] { Array(buffer.readableBytesView) }

    /// One family's sample lines, as a slice of ``buffer`` (no copy).
    func sampleLines(of family: RenderedFamily) -> ByteBuffer { slice(family.sampleLines) }

    /// One family's `# HELP` and `# TYPE` lines, as a slice of ``buffer``.
    func header(of family: RenderedFamily) -> ByteBuffer { slice(family.header) }

    /// One family's name, as a slice of ``buffer`` (hashable, compared by its bytes).
    func nameBytes(of family: RenderedFamily) -> ByteBuffer { slice(family.name) }

    /// One family's name.
    public func name(of family: RenderedFamily) -> String { String(buffer: nameBytes(of: family)) }

    private func slice(_ range: Range<Int32>) -> ByteBuffer {
        buffer.getSlice(at: buffer.readerIndex + Int(range.lowerBound), length: range.count)!
    }

    public var sampleCount: Int { families.reduce(0) { $0 + $1.sampleCount } }

    /// Renders relabelled families (already sorted by name) that carry `labels`.
    public init(id: String, families: [MetricFamily], labels: SandboxLabels? = nil) {
        self.id = id
        self.labels = labels ?? SandboxLabels(sandboxID: id)
        var body: [UInt8] = []
        body.reserveCapacity(families.reduce(0) { $0 + 96 + $1.samples.count * 160 })
        var rendered: [RenderedFamily] = []
        rendered.reserveCapacity(families.count)
        for family in families where !family.samples.isEmpty {
            let headerStart = body.count
            ExpositionRenderer.appendHeader(name: family.name, help: family.help, type: family.type, to: &body)
            let start = body.count
            ExpositionRenderer.appendSamples(family.samples, to: &body)
            rendered.append(
                RenderedFamily(
                    header: headerStart..<start, nameLength: family.name.utf8.count, hasHelp: family.help != nil,
                    type: family.type, sampleLines: start..<body.count, sampleCount: family.samples.count))
        }
        self.buffer = ByteBuffer(bytes: body)
        self.families = rendered
    }

    /// A rendering made elsewhere (``SandboxRenderer``).
    init(id: String, labels: SandboxLabels, buffer: ByteBuffer, families: [RenderedFamily]) {
        self.id = id
        self.labels = labels
        self.buffer = buffer
        self.families = families
    }
}
