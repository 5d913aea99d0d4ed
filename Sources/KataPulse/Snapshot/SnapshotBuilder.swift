import NIOCore

/// Merges every sandbox's rendered families and the agent's own metrics into one ``Snapshot``.
///
/// Families are sorted by name, and inside a family samples are grouped per sandbox in id order, so the
/// output is deterministic. Each family gets one HELP and TYPE. When sandboxes disagree on a family's TYPE,
/// the type most sandboxes report wins (ties go to the first sandbox by id) and only the disagreeing
/// sandboxes' samples of that family are left out.
public struct SnapshotBuilder: Sendable {
    /// zlib level for the once-per-round gzip body.
    public var compressionLevel: Int32
    public var version: String
    /// Other parts' own metrics (exports, CRI), published after the collection families.
    public var sources: [any OwnMetricsSource]

    public init(
        compressionLevel: Int32 = 6, version: String = KataPulseVersion.string, sources: [any OwnMetricsSource] = []
    ) {
        self.compressionLevel = compressionLevel
        self.version = version
        self.sources = sources
    }

    /// Builds a snapshot from sandbox records sorted by id.
    public func build(sandboxes: [SandboxRecord], statistics: CollectionStatistics, now: Double) -> Snapshot {
        let merged = mergeFamilies(sandboxes)
        // The agent's own families and every merged family's header are rendered here, each into one buffer;
        // the sample lines are slices of the sandboxes' renderings.
        var own: [UInt8] = []
        var ownRanges: [(name: String, range: Range<Int>)] = []
        for family in OwnMetrics.collectionFamilies(
            sandboxes: sandboxes, statistics: statistics, typeConflicts: merged.conflicts, version: version,
            extra: sources.flatMap(\.families))
        {
            let start = own.count
            ExpositionRenderer.appendHeader(name: family.name, help: family.help, type: family.type, to: &own)
            ExpositionRenderer.appendSamples(family.samples, to: &own)
            ownRanges.append((family.name, start..<own.count))
        }
        var headers: [UInt8] = []
        var headerRanges: [Range<Int>] = []
        headerRanges.reserveCapacity(merged.families.count)
        for family in merged.families {
            let start = headers.count
            ExpositionRenderer.appendHeader(name: family.name, help: family.help, type: family.type, to: &headers)
            headerRanges.append(start..<headers.count)
        }
        let ownBuffer = ByteBuffer(bytes: own)
        let headerBuffer = ByteBuffer(bytes: headers)
        var parts: [ByteBuffer] = []
        parts.reserveCapacity(ownRanges.count + merged.families.reduce(0) { $0 + 1 + $1.parts.count })
        var spans: [Snapshot.FamilySpan] = []
        spans.reserveCapacity(ownRanges.count + merged.families.count)
        for (name, range) in ownRanges {
            parts.append(ownBuffer.getSlice(at: range.lowerBound, length: range.count)!)
            spans.append(Snapshot.FamilySpan(name: name, parts: parts.count - 1..<parts.count))
        }
        for (family, header) in zip(merged.families, headerRanges) {
            let start = parts.count
            parts.append(headerBuffer.getSlice(at: header.lowerBound, length: header.count)!)
            for part in family.parts { parts.append(part.sandbox.sampleLines(of: part.family)) }
            spans.append(Snapshot.FamilySpan(name: family.name, parts: start..<parts.count))
        }
        return Snapshot(
            parts: parts, families: spans, sandboxes: sandboxes, typeConflicts: merged.conflicts, builtAt: now,
            compressionLevel: compressionLevel)
    }

    struct MergedFamily {
        var name: String
        var help: String?
        var type: MetricType
        var parts: [(sandbox: RenderedSandbox, family: RenderedFamily)]
    }

    struct MergeResult {
        var families: [MergedFamily]
        var conflicts: Int
    }

    func mergeFamilies(_ sandboxes: [SandboxRecord]) -> MergeResult {
        var byName: [String: [(sandbox: RenderedSandbox, family: RenderedFamily)]] = [:]
        for record in sandboxes {
            for rendered in [record.rendered, record.containers].compactMap({ $0 }) {
                for family in rendered.families {
                    byName[family.name, default: []].append((rendered, family))
                }
            }
        }
        var conflicts = 0
        var families: [MergedFamily] = []
        families.reserveCapacity(byName.count)
        for name in byName.keys.sorted() {
            let members = byName[name]!
            let type = winningType(members.map(\.family.type))
            var merged = MergedFamily(name: name, help: nil, type: type, parts: [])
            for member in members {
                guard member.family.type == type else {
                    conflicts += 1
                    continue
                }
                if merged.help == nil { merged.help = member.family.help }
                merged.parts.append((member.sandbox, member.family))
            }
            families.append(merged)
        }
        return MergeResult(families: families, conflicts: conflicts)
    }

    /// The type most members report; ties go to the one seen first.
    func winningType(_ types: [MetricType]) -> MetricType {
        var counts: [MetricType: Int] = [:]
        for type in types { counts[type, default: 0] += 1 }
        var best = types[0]
        for type in types where counts[type]! > counts[best]! { best = type }
        return best
    }
}
