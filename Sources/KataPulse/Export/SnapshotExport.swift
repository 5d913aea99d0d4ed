import Logging
import NIOPosix

/// A destination for every collection round's snapshot: the node_exporter textfile, a Pushgateway, and the
/// like. ``SnapshotExports`` drives each one: it renders the body, counts outcomes and logs failures.
protocol SnapshotExport: Sendable {
    /// How the export is named in its own metrics and in logs.
    var descriptor: ExportDescriptor { get }
    /// The series it takes; a body several exports share is rendered once per round.
    var exposition: ExpositionSet { get }
    /// Runs once before the first round; `pool` is the export's own thread for blocking work.
    func prepare(pool: NIOThreadPool, logger: Logger) async
    /// Delivers one round's body; a failure leaves the previous delivery in place.
    func deliver(_ body: [UInt8], pool: NIOThreadPool) async throws(ExportFailure)
    /// Runs once after the last round, at shutdown.
    func finish(pool: NIOThreadPool) async
}

extension SnapshotExport {
    func prepare(pool: NIOThreadPool, logger: Logger) async {}
    func finish(pool: NIOThreadPool) async {}
}

/// Names an export: its three own metric families and its log lines.
struct ExportDescriptor: Sendable {
    /// Counts deliveries that succeeded.
    var deliveries: OwnMetric
    /// Counts deliveries that failed.
    var failures: OwnMetric
    /// Unix time of the last successful delivery (absent before the first).
    var lastDelivery: OwnMetric
    /// Logged at the first failure of each cause.
    var failureMessage: String
    /// Logged when a delivery succeeds after failures.
    var recoveryMessage: String
    /// Where the export delivers to, as log metadata (`path`, `url`).
    var destination: (key: String, value: String)
}

/// Why a delivery failed; `cause` is stable across repeats of the same failure, so it is logged once.
struct ExportFailure: Error, Sendable, CustomStringConvertible {
    var cause: String
    var description: String

    init(cause: String, description: String) {
        self.cause = cause
        self.description = description
    }
}
