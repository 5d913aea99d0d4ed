import Logging
import NIOPosix
import ServiceLifecycle

/// Drives the exports with every round's snapshot.
///
/// Each export has a stream of its own that keeps only the newest round, and a thread of its own for blocking
/// work, so a slow disk or a hung Pushgateway skips rounds of that export alone and never delays collection
/// or the others (a skipped round is counted where the export names a counter for it). A body several
/// exports share is rendered once per round. Outcomes are counted in
/// ``ExportHealth``; a failure is logged once per cause, and the recovery once.
struct SnapshotExports: Service {
    let exports: [any SnapshotExport]
    let snapshots: AsyncStream<Snapshot>
    let health: ExportHealth
    let logger: Logger

    init(exports: [any SnapshotExport], snapshots: AsyncStream<Snapshot>, health: ExportHealth, logger: Logger) {
        self.exports = exports
        self.snapshots = snapshots
        self.health = health
        self.logger = logger
    }

    func run() async throws {
        let feeds = exports.enumerated().map { index, export in feed(export, index: index) }
        await withDiscardingTaskGroup { group in
            for feed in feeds { group.addTask { await feed.drive() } }
            for await snapshot in snapshots.cancelOnGracefulShutdown() {
                var bodies = ExportBodies()
                for (index, feed) in feeds.enumerated() where !feed.offer(snapshot, &bodies) {
                    health.skipped(index)
                }
            }
            // Each export finishes the delivery under way, then its finish step runs.
            for feed in feeds { feed.finish() }
        }
    }

    /// One export's round stream, which keeps only the newest round, and the task that delivers from it.
    private struct Feed: Sendable {
        /// Hands the export its part of a snapshot; false when it replaced a round the export had not taken.
        let offer: @Sendable (Snapshot, inout ExportBodies) -> Bool
        let finish: @Sendable () -> Void
        let drive: @Sendable () async -> Void
    }

    private func feed<Export: SnapshotExport>(_ export: Export, index: Int) -> Feed {
        let (rounds, continuation) = AsyncStream.makeStream(of: Export.Round.self, bufferingPolicy: .bufferingNewest(1))
        return Feed(
            offer: { snapshot, bodies in
                if case .dropped = continuation.yield(export.round(of: snapshot, bodies: &bodies)) { return false }
                return true
            },
            finish: { continuation.finish() },
            drive: { await drive(export, index: index, rounds: rounds) })
    }

    private func drive<Export: SnapshotExport>(_ export: Export, index: Int, rounds: AsyncStream<Export.Round>) async {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let descriptor = export.descriptor
        let destination: Logger.Metadata = [descriptor.destination.key: "\(descriptor.destination.value)"]
        await export.prepare(pool: pool, logger: logger)
        var loggedCauses: Set<String> = []
        for await round in rounds {
            do {
                try await export.deliver(round, pool: pool)
                health.delivered(index, at: UnixTime.now())
                if !loggedCauses.isEmpty {
                    logger.info("\(descriptor.recoveryMessage)", metadata: destination)
                    loggedCauses.removeAll()
                }
            } catch {
                health.failed(index)
                if loggedCauses.insert(error.cause).inserted {
                    logger.error(
                        "\(descriptor.failureMessage)", metadata: destination.merging(["error": "\(error)"]) { $1 })
                }
            }
        }
        await export.finish(pool: pool)
        try? await pool.shutdownGracefully()
    }
}
