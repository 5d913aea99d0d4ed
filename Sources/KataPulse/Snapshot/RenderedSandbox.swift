import NIOCore

/// One family of a ``RenderedSandbox``: its header data and where its sample lines are.
public struct RenderedFamily: Sendable, Equatable {
    public let name: String
    public let help: String?
    public let type: MetricType
    /// The byte range of this family's sample lines in ``RenderedSandbox/buffer``.
    public let sampleLines: Range<Int>
    public let sampleCount: Int
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
    func sampleLines(of family: RenderedFamily) -> ByteBuffer {
        buffer.getSlice(at: buffer.readerIndex + family.sampleLines.lowerBound, length: family.sampleLines.count)!
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
            ExpositionRenderer.appendHeader(name: family.name, help: family.help, type: family.type, to: &body)
            let start = body.count
            ExpositionRenderer.appendSamples(family.samples, to: &body)
            rendered.append(
                RenderedFamily(
                    name: family.name, help: family.help, type: family.type, sampleLines: start..<body.count,
                    sampleCount: family.samples.count))
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
