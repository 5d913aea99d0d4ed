/// Why one shim's metrics could not be collected in a round.
public enum ScrapeFailureReason: String, Sendable, CaseIterable, Comparable {
    /// No `shim-monitor.sock` under any sandbox root.
    case noSocket = "no_socket"
    /// The socket refused or dropped the connection.
    case connect
    /// The shim did not answer in full within the deadline.
    case timeout
    /// The shim answered with a status other than 200.
    case httpStatus = "http_status"
    /// The body was larger than the body cap.
    case bodyTooLarge = "body_too_large"
    /// The connection failed while reading the response.
    case read
    /// The body is not valid text format.
    case parse
    /// The body is valid but over a per-sandbox limit (series, labels, lengths).
    case limit

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What the agent knows about one sandbox after its latest collection attempt.
public struct SandboxRecord: Sendable {
    public var id: String
    /// The `sandbox_id` and `cri_*` labels of its series, from ``metadata``.
    public private(set) var labels: SandboxLabels
    /// The pod it belongs to, from CRI; nil until known (and without CRI).
    public var metadata: PodMetadata? {
        didSet { labels = metadata?.labels(sandboxID: id) ?? SandboxLabels(sandboxID: id) }
    }
    /// The socket the shim was last reached on (or looked for).
    public var socketPath: String?
    /// The last successfully collected metrics; kept when a later round fails.
    public var rendered: RenderedSandbox?
    /// Unix time of the last attempt and of the last success.
    public var lastAttempt: Double?
    public var lastSuccess: Double?
    /// The last attempt's failure, if it failed.
    public var lastFailure: ScrapeFailureReason?
    public var lastError: String?

    public init(id: String, metadata: PodMetadata? = nil) {
        self.id = id
        self.metadata = metadata
        self.labels = metadata?.labels(sandboxID: id) ?? SandboxLabels(sandboxID: id)
    }

    /// Whether the last attempt succeeded.
    public var isUp: Bool { lastAttempt != nil && lastFailure == nil }
}

/// A cumulative histogram with fixed upper bounds, rendered as a Prometheus histogram.
public struct FixedHistogram: Sendable, Equatable {
    public let upperBounds: [Double]
    public private(set) var bucketCounts: [Int]
    public private(set) var sum: Double = 0
    public private(set) var count: Int = 0

    public init(upperBounds: [Double]) {
        self.upperBounds = upperBounds
        self.bucketCounts = Array(repeating: 0, count: upperBounds.count)
    }

    public mutating func observe(_ value: Double) {
        for (index, bound) in upperBounds.enumerated() where value <= bound {
            bucketCounts[index] += 1
        }
        sum += value
        count += 1
    }
}

/// Counters that outlive a round and are published as the agent's own metrics.
public struct CollectionStatistics: Sendable, Equatable {
    public var rounds = 0
    public var lastRoundDurationSeconds: Double = 0
    public var lastRoundEnd: Double?
    public var scrapeErrors: [ScrapeFailureReason: Int] = [:]
    public var duplicateSeriesDropped = 0
    public var reservedFamilySamplesDropped = 0
    /// Per-shim fetch durations in whole milliseconds, with kata-monitor's buckets 1, 2, 4, … 512.
    public var shimDurations = FixedHistogram(upperBounds: (0..<10).map { Double(1 << $0) })

    public init() {}
}
