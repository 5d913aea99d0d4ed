import Logging
import NIOPosix

/// A destination for every collection round's snapshot: the node_exporter textfile, a Pushgateway, remote
/// write. ``SnapshotExports`` drives each one: it hands it its round, counts outcomes and logs failures.
protocol SnapshotExport: Sendable {
    /// What one round hands the export: the rendered body (the default), or what the export takes from the
    /// snapshot itself.
    associatedtype Round: Sendable = [UInt8]
    /// How the export is named in its own metrics and in logs.
    var descriptor: ExportDescriptor { get }
    /// The series it takes; a body several exports share is rendered once per round.
    var exposition: ExpositionSet { get }
    /// What this export takes of a round's snapshot; `bodies` renders each exposition's body once per round.
    func round(of snapshot: Snapshot, bodies: inout ExportBodies) -> Round
    /// Runs once before the first round; `pool` is the export's own thread for blocking work.
    func prepare(pool: NIOThreadPool, logger: Logger) async
    /// Delivers one round; a failure leaves the previous delivery in place.
    func deliver(_ round: Round, pool: NIOThreadPool) async throws(ExportFailure)
    /// Runs once after the last round, at shutdown.
    func finish(pool: NIOThreadPool) async
}

extension SnapshotExport {
    func prepare(pool: NIOThreadPool, logger: Logger) async {}
    func finish(pool: NIOThreadPool) async {}
}

extension SnapshotExport where Round == [UInt8] {
    func round(of snapshot: Snapshot, bodies: inout ExportBodies) -> [UInt8] {
        bodies.body(of: snapshot, exposition: exposition)
    }
}

/// The rendered export bodies of one round, each rendered once however many exports take it.
struct ExportBodies {
    private var rendered: [ExpositionSet: [UInt8]] = [:]

    mutating func body(of snapshot: Snapshot, exposition: ExpositionSet) -> [UInt8] {
        if let body = rendered[exposition] { return body }
        let body = ExportBody.render(snapshot, exposition: exposition)
        rendered[exposition] = body
        return body
    }
}

/// Names an export: its three own metric families and its log lines.
struct ExportDescriptor: Sendable {
    /// Counts deliveries that succeeded.
    var deliveries: OwnMetric
    /// Counts deliveries that failed.
    var failures: OwnMetric
    /// Unix time of the last successful delivery (absent before the first).
    var lastDelivery: OwnMetric
    /// Counts rounds the export had not taken when the next one came (only where every round matters).
    var skippedRounds: OwnMetric? = nil
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
