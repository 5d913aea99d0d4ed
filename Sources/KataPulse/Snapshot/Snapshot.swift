import NIOCore
import Synchronization

/// An immutable, fully rendered view of the node after a collection round.
///
/// Built once per round (or discovery change) by ``SnapshotBuilder`` and swapped in atomically; HTTP
/// requests only pick its buffers. The body is a list of slices of each sandbox's rendering (the one copy
/// the agent keeps) and of the family headers, so the node's series are held once; the gzip body is
/// compressed from those slices once. Only an uncompressed request joins them (``plainBody``).
public final class Snapshot: Sendable {
    /// One family's buffers (HELP, TYPE and samples) within ``parts``.
    public struct FamilySpan: Sendable, Equatable {
        public let name: String
        public let parts: Range<Int>
    }

    /// Everything `/metrics` serves after the per-request families, in output order (slices, not copies).
    public let parts: [ByteBuffer]
    /// The total length of ``parts``.
    public let bodyLength: Int
    public let families: [FamilySpan]
    /// The body compressed once, as the final DEFLATE segment of a gzip member. While a round is under way it
    /// is the last complete snapshot's: an interim snapshot (``SnapshotBuilder/build(sandboxes:statistics:now:deflatedBody:)``)
    /// shows the sandboxes collected so far uncompressed, and what the previous round ended with compressed.
    public let deflatedBody: DeflateSegment
    /// Every discovered sandbox, sorted by id.
    public let sandboxes: [SandboxRecord]
    /// Number of (sandbox, family) pairs left out because their TYPE disagreed with the family's.
    public let typeConflicts: Int
    /// Unix time the snapshot was built.
    public let builtAt: Double

    private let sandboxIndex: [String: Int]
    /// The plain body in one buffer, joined when a client first asks for it uncompressed.
    private let joinedBody = Mutex<ByteBuffer?>(nil)

    /// The body as bytes (a copy; for tests and tools).
    public var body: [UInt8] { Array(parts.joined.readableBytesView) }

    public var runningShimCount: Int { sandboxes.count }

    init(
        parts: [ByteBuffer], families: [FamilySpan], sandboxes: [SandboxRecord], typeConflicts: Int, builtAt: Double,
        deflatedBody: DeflateSegment
    ) {
        self.parts = parts
        self.bodyLength = parts.reduce(0) { $0 + $1.readableBytes }
        self.families = families
        self.deflatedBody = deflatedBody
        self.sandboxes = sandboxes
        self.typeConflicts = typeConflicts
        self.builtAt = builtAt
        var index: [String: Int] = [:]
        for (position, record) in sandboxes.enumerated() { index[record.id] = position }
        self.sandboxIndex = index
    }

    /// The plain body as one buffer, joined from ``parts`` on the first call and kept with this snapshot.
    ///
    /// Sending tens of thousands of slices per response costs more than the copy through loopback itself, so
    /// uncompressed responses send this. It exists only once someone asks for uncompressed metrics (Prometheus
    /// asks for gzip), until the next snapshot replaces this one.
    public var plainBody: ByteBuffer {
        joinedBody.withLock { joined in
            if let joined { return joined }
            let buffer = parts.joined
            joined = buffer
            return buffer
        }
    }

    /// One family's bytes (a copy).
    public func bytes(of family: FamilySpan) -> [UInt8] { Array(parts[family.parts].joined.readableBytesView) }

    /// The record of one sandbox, if it is discovered.
    public func sandbox(_ id: String) -> SandboxRecord? {
        sandboxIndex[id].map { sandboxes[$0] }
    }

    /// An empty snapshot, served before the first round completes.
    public static func empty(now: Double) -> Snapshot {
        SnapshotBuilder().build(sandboxes: [], statistics: CollectionStatistics(), now: now)
    }
}
