import Logging
import NIOPosix

/// Writes a snapshot after every collection round for node_exporter's textfile collector; a failed write
/// keeps the previous file.
public struct TextfileExport: SnapshotExport {
    /// Where and what to write; off without a directory.
    public struct Configuration: Sendable {
        /// The node_exporter textfile directory; the export is off when nil.
        public var directory: String?
        /// The file's name; ends in `.prom`.
        public var name = "kata-pulse.prom"
        /// Series in the file; nil means those the agent serves.
        public var exposition: ExpositionSet?
        /// Remove the file on a clean shutdown (by default it stays; node_exporter reports its age).
        public var removeOnExit = false

        public init() {}
    }

    let writer: TextfileWriter
    let exposition: ExpositionSet
    let removeOnExit: Bool

    /// The export `configuration` asks for, or nil when it is off; `served` is what `/metrics` publishes.
    init?(configuration: Configuration, served: ExpositionSet) {
        guard let directory = configuration.directory else { return nil }
        self.writer = TextfileWriter(directory: directory, name: configuration.name)
        self.exposition = configuration.exposition ?? served
        self.removeOnExit = configuration.removeOnExit
    }

    var descriptor: ExportDescriptor {
        ExportDescriptor(
            deliveries: .counter("kata_pulse_textfile_writes_total", "Textfile snapshots written."),
            failures: .counter(
                "kata_pulse_textfile_write_failures_total",
                "Textfile snapshots that could not be written (the previous file stays)."),
            lastDelivery: .gauge(
                "kata_pulse_textfile_last_write_timestamp_seconds", "Unix time of the last textfile snapshot written."),
            failureMessage: "cannot write the textfile snapshot; the previous file stays",
            recoveryMessage: "textfile written again", destination: ("path", writer.path))
    }

    func prepare(pool: NIOThreadPool, logger: Logger) async {
        let stale = writer.removeStaleTemporaries()
        if stale > 0 { logger.info("removed stale temporary textfiles", metadata: ["count": "\(stale)"]) }
    }

    func deliver(_ body: [UInt8], pool: NIOThreadPool) async throws(ExportFailure) {
        let writer = self.writer
        do {
            try await pool.runIfActive { try writer.write(body) }
        } catch let error as TextfileError {
            throw ExportFailure(cause: error.cause, description: "\(error)")
        } catch {
            throw ExportFailure(cause: "\(error)", description: "\(error)")
        }
    }

    func finish(pool: NIOThreadPool) async {
        if removeOnExit { writer.remove() }
    }
}
