import Logging
import NIOPosix
import ServiceLifecycle

/// Writes a textfile snapshot after every collection round for node_exporter's textfile collector.
///
/// Rounds arrive through a stream that keeps only the newest snapshot, so a slow disk never delays
/// collection; writes run on a thread of their own. A failure keeps the previous file, is counted, logged
/// once per cause, and the next round tries again.
public struct TextfileExporter: Service {
    public let writer: TextfileWriter
    let exposition: ExpositionSet
    let removeOnExit: Bool
    let snapshots: AsyncStream<Snapshot>
    let counters: ExportCounters
    let logger: Logger

    public init(
        writer: TextfileWriter, exposition: ExpositionSet, removeOnExit: Bool, snapshots: AsyncStream<Snapshot>,
        counters: ExportCounters, logger: Logger
    ) {
        self.writer = writer
        self.exposition = exposition
        self.removeOnExit = removeOnExit
        self.snapshots = snapshots
        self.counters = counters
        self.logger = logger
    }

    public func run() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let stale = writer.removeStaleTemporaries()
        if stale > 0 { logger.info("removed stale temporary textfiles", metadata: ["count": "\(stale)"]) }
        var loggedCauses: Set<String> = []
        for await snapshot in snapshots.cancelOnGracefulShutdown() {
            let body = TextfileBody.render(snapshot, exposition: exposition)
            let writer = self.writer
            do {
                try await pool.runIfActive { try writer.write(body) }
                counters.textfileWritten(at: UnixTime.now())
                if !loggedCauses.isEmpty {
                    logger.info("textfile written again", metadata: ["path": "\(writer.path)"])
                    loggedCauses.removeAll()
                }
            } catch let error as TextfileError {
                counters.textfileFailed()
                if loggedCauses.insert(error.cause).inserted {
                    logger.error(
                        "cannot write the textfile snapshot; the previous file stays",
                        metadata: ["path": "\(writer.path)", "error": "\(error)"])
                }
            } catch {
                counters.textfileFailed()
            }
        }
        if removeOnExit { writer.remove() }
        try? await pool.shutdownGracefully()
    }
}
