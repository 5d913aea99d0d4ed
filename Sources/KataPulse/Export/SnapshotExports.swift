import Logging
import NIOPosix
import ServiceLifecycle

/// Drives the exports with every round's snapshot.
///
/// Each export has a stream of its own that keeps only the newest body, and a thread of its own for blocking
/// work, so a slow disk or a hung Pushgateway skips rounds of that export alone and never delays collection
/// or the others. A body several exports share is rendered once per round. Outcomes are counted in
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
        let streams = exports.map { _ in
            AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingNewest(1))
        }
        await withDiscardingTaskGroup { group in
            for (index, export) in exports.enumerated() {
                let bodies = streams[index].stream
                group.addTask { await drive(export, index: index, bodies: bodies) }
            }
            for await snapshot in snapshots.cancelOnGracefulShutdown() {
                var rendered: [ExpositionSet: [UInt8]] = [:]
                for (export, stream) in zip(exports, streams) {
                    let body = rendered[export.exposition] ?? ExportBody.render(snapshot, exposition: export.exposition)
                    rendered[export.exposition] = body
                    stream.continuation.yield(body)
                }
            }
            // Each export finishes the delivery under way, then its finish step runs.
            for stream in streams { stream.continuation.finish() }
        }
    }

    private func drive(_ export: any SnapshotExport, index: Int, bodies: AsyncStream<[UInt8]>) async {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let descriptor = export.descriptor
        let destination: Logger.Metadata = [descriptor.destination.key: "\(descriptor.destination.value)"]
        await export.prepare(pool: pool, logger: logger)
        var loggedCauses: Set<String> = []
        for await body in bodies {
            do {
                try await export.deliver(body, pool: pool)
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
