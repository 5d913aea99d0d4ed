/// Counters that outlive a round and are published as the agent's own metrics.
public struct CollectionStatistics: Sendable, Equatable {
    public var rounds = 0
    public var lastRoundDurationSeconds: Double = 0
    public var lastRoundEnd: Double?
    /// The configured time between rounds, published beside the round's duration so that alerts can compare
    /// the two; nil outside a collector.
    public var intervalSeconds: Double?
    public var scrapeErrors: [ScrapeFailureReason: Int] = [:]
    public var duplicateSeriesDropped = 0
    public var reservedFamilySamplesDropped = 0
    /// Per-shim fetch durations in whole milliseconds, with kata-monitor's buckets 1, 2, 4, … 512.
    public var shimDurations = FixedHistogram(upperBounds: (0..<10).map { Double(1 << $0) })

    public init() {}
}
