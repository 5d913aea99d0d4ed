import Logging
import NIOPosix

/// A destination for every collection round's snapshot: the node_exporter textfile, a Pushgateway, and the
/// like. ``SnapshotExports`` drives each one: it renders the body, counts outcomes and logs failures.
public protocol SnapshotExport: Sendable {
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
    public func prepare(pool: NIOThreadPool, logger: Logger) async {}
    public func finish(pool: NIOThreadPool) async {}
}

/// Names an export: its three own metric families and its log lines.
public struct ExportDescriptor: Sendable {
    /// Counts deliveries that succeeded.
    public var deliveries: OwnMetric
    /// Counts deliveries that failed.
    public var failures: OwnMetric
    /// Unix time of the last successful delivery (absent before the first).
    public var lastDelivery: OwnMetric
    /// Logged at the first failure of each cause.
    public var failureMessage: String
    /// Logged when a delivery succeeds after failures.
    public var recoveryMessage: String
    /// Where the export delivers to, as log metadata (`path`, `url`).
    public var destination: (key: String, value: String)
}

/// Why a delivery failed; `cause` is stable across repeats of the same failure, so it is logged once.
public struct ExportFailure: Error, Sendable, CustomStringConvertible {
    public var cause: String
    public var description: String

    public init(cause: String, description: String) {
        self.cause = cause
        self.description = description
    }
}
