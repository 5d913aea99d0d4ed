/// A part of the agent that publishes some of its own metric families in every snapshot.
public protocol OwnMetricsSource: Sendable {
    /// The families as they stand now; read once per snapshot.
    var families: [MetricFamily] { get }
}
