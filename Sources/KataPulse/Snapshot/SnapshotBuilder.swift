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
        var body: [UInt8] = []
        body.reserveCapacity(merged.estimatedSize + 16_384)
        var spans: [Snapshot.FamilySpan] = []
        for family in OwnMetrics.collectionFamilies(
            sandboxes: sandboxes, statistics: statistics, typeConflicts: merged.conflicts, version: version,
            extra: sources.flatMap(\.families))
        {
            let start = body.count
            ExpositionRenderer.appendHeader(name: family.name, help: family.help, type: family.type, to: &body)
            ExpositionRenderer.appendSamples(family.samples, to: &body)
            spans.append(Snapshot.FamilySpan(name: family.name, range: start..<body.count))
        }
        for family in merged.families {
            let start = body.count
            ExpositionRenderer.appendHeader(name: family.name, help: family.help, type: family.type, to: &body)
            for part in family.parts {
                body.append(contentsOf: part.sandbox.body[part.lines])
            }
            spans.append(Snapshot.FamilySpan(name: family.name, range: start..<body.count))
        }
        return Snapshot(
            body: body, families: spans, sandboxes: sandboxes, typeConflicts: merged.conflicts, builtAt: now,
            compressionLevel: compressionLevel)
    }

    struct MergedFamily {
        var name: String
        var help: String?
        var type: MetricType
        var parts: [(sandbox: RenderedSandbox, lines: Range<Int>)]
    }

    struct MergeResult {
        var families: [MergedFamily]
        var conflicts: Int
        var estimatedSize: Int
    }

    func mergeFamilies(_ sandboxes: [SandboxRecord]) -> MergeResult {
        var byName: [String: [(sandbox: RenderedSandbox, family: RenderedFamily)]] = [:]
        var estimatedSize = 0
        for record in sandboxes {
            for rendered in [record.rendered, record.containers].compactMap({ $0 }) {
                estimatedSize += rendered.body.count
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
                merged.parts.append((member.sandbox, member.family.sampleLines))
            }
            families.append(merged)
        }
        return MergeResult(families: families, conflicts: conflicts, estimatedSize: estimatedSize)
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
