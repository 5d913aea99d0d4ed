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
    ///
    /// - Parameter deflatedBody: the gzip body to serve instead of compressing this snapshot's (an earlier
    ///   snapshot's, while a round is under way: compressing is the costly part of a snapshot).
    public func build(
        sandboxes: [SandboxRecord], statistics: CollectionStatistics, now: Double, deflatedBody: DeflateSegment? = nil
    ) -> Snapshot {
        let merged = mergeFamilies(sandboxes)
        // The agent's own families are rendered here, into one buffer; every other family's header and sample
        // lines are slices of the sandboxes' renderings.
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
        let ownBuffer = ByteBuffer(bytes: own)
        var parts: [ByteBuffer] = []
        parts.reserveCapacity(ownRanges.count + merged.families.reduce(0) { $0 + 1 + $1.members.count })
        var spans: [Snapshot.FamilySpan] = []
        spans.reserveCapacity(ownRanges.count + merged.families.count)
        for (name, range) in ownRanges {
            parts.append(ownBuffer.getSlice(at: range.lowerBound, length: range.count)!)
            spans.append(Snapshot.FamilySpan(name: name, parts: parts.count - 1..<parts.count))
        }
        for family in merged.families {
            let start = parts.count
            parts.append(family.header)
            for member in family.members {
                let rendering = rendering(of: member, in: sandboxes)
                parts.append(rendering.sampleLines(of: rendering.families[Int(member.family)]))
            }
            spans.append(Snapshot.FamilySpan(name: String(buffer: family.name), parts: start..<parts.count))
        }
        return Snapshot(
            parts: parts, families: spans, sandboxes: sandboxes, typeConflicts: merged.conflicts, builtAt: now,
            deflatedBody: deflatedBody ?? DeflateSegment(compressing: parts, isFinal: true, level: compressionLevel))
    }

    /// One sandbox's family within a ``MergedFamily``: positions, so that merging copies no rendering.
    struct Member {
        /// The record's index in the sandboxes.
        var sandbox: Int32
        /// Whether the family is one of the record's container rows rather than of its shim.
        var isContainers: Bool
        /// The family's index in that rendering's families.
        var family: Int32
    }

    struct MergedFamily {
        /// The name's bytes, in the first member's rendering.
        var name: ByteBuffer
        /// The HELP and TYPE lines: the first member of the family's type with a HELP line, else the first.
        var header = ByteBuffer()
        var members: [Member]
    }

    struct MergeResult {
        var families: [MergedFamily]
        var conflicts: Int
    }

    func mergeFamilies(_ sandboxes: [SandboxRecord]) -> MergeResult {
        var byName: [ByteBuffer: Int] = [:]
        var families: [MergedFamily] = []
        for (index, record) in sandboxes.enumerated() {
            for (rendered, isContainers) in [(record.rendered, false), (record.containers, true)] {
                guard let rendered else { continue }
                for (position, family) in rendered.families.enumerated() {
                    let member = Member(sandbox: Int32(index), isContainers: isContainers, family: Int32(position))
                    let name = rendered.nameBytes(of: family)
                    if let merged = byName[name] {
                        families[merged].members.append(member)
                    } else {
                        byName[name] = families.count
                        families.append(MergedFamily(name: name, members: [member]))
                    }
                }
            }
        }
        families.sort { $0.name.readableBytesView.lexicographicallyPrecedes($1.name.readableBytesView) }
        var conflicts = 0
        for index in families.indices {
            var members = families[index].members
            let first = family(of: members[0], in: sandboxes).type
            // Nearly every family has one type: nothing to filter, nothing allocated.
            if !members.allSatisfy({ family(of: $0, in: sandboxes).type == first }) {
                let type = winningType(members.map { family(of: $0, in: sandboxes).type })
                let kept = members.filter { family(of: $0, in: sandboxes).type == type }
                conflicts += members.count - kept.count
                members = kept
                families[index].members = kept
            }
            let chosen = members.first { family(of: $0, in: sandboxes).hasHelp } ?? members[0]
            families[index].header = rendering(of: chosen, in: sandboxes).header(of: family(of: chosen, in: sandboxes))
        }
        return MergeResult(families: families, conflicts: conflicts)
    }

    func rendering(of member: Member, in sandboxes: [SandboxRecord]) -> RenderedSandbox {
        let record = sandboxes[Int(member.sandbox)]
        return (member.isContainers ? record.containers : record.rendered)!
    }

    func family(of member: Member, in sandboxes: [SandboxRecord]) -> RenderedFamily {
        rendering(of: member, in: sandboxes).families[Int(member.family)]
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
