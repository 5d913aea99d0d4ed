import NIOCore

/// An immutable, fully rendered view of the node after a collection round.
///
/// Built once per round (or discovery change) by ``SnapshotBuilder`` and swapped in atomically; HTTP
/// requests only slice and concatenate its bytes.
public final class Snapshot: Sendable {
    /// One family's bytes (HELP, TYPE and samples) within ``body``.
    public struct FamilySpan: Sendable, Equatable {
        public let name: String
        public let range: Range<Int>
    }

    /// Everything `/metrics` serves after the per-request families, in output order.
    public let bodyBuffer: ByteBuffer
    /// ``deflatedBody``'s bytes, ready to send.
    public let deflatedBuffer: ByteBuffer
    public let families: [FamilySpan]
    /// ``body`` compressed once, as the final DEFLATE segment of a gzip member.
    public let deflatedBody: DeflateSegment
    /// Every discovered sandbox, sorted by id.
    public let sandboxes: [SandboxRecord]
    /// Number of (sandbox, family) pairs left out because their TYPE disagreed with the family's.
    public let typeConflicts: Int
    /// Unix time the snapshot was built.
    public let builtAt: Double

    private let sandboxIndex: [String: Int]

    /// The body as bytes (a copy; for tests and tools).
    public var body: [UInt8] { Array(bodyBuffer.readableBytesView) }

    public var runningShimCount: Int { sandboxes.count }

    init(
        body: [UInt8], families: [FamilySpan], sandboxes: [SandboxRecord], typeConflicts: Int, builtAt: Double,
        compressionLevel: Int32
    ) {
        self.bodyBuffer = ByteBuffer(bytes: body)
        self.families = families
        self.deflatedBody = DeflateSegment(compressing: body, isFinal: true, level: compressionLevel)
        self.deflatedBuffer = ByteBuffer(bytes: deflatedBody.bytes)
        self.sandboxes = sandboxes
        self.typeConflicts = typeConflicts
        self.builtAt = builtAt
        var index: [String: Int] = [:]
        for (position, record) in sandboxes.enumerated() { index[record.id] = position }
        self.sandboxIndex = index
    }

    /// The record of one sandbox, if it is discovered.
    public func sandbox(_ id: String) -> SandboxRecord? {
        sandboxIndex[id].map { sandboxes[$0] }
    }

    /// An empty snapshot, served before the first round completes.
    public static func empty(now: Double) -> Snapshot {
        SnapshotBuilder().build(sandboxes: [], statistics: CollectionStatistics(), now: now)
    }
}
