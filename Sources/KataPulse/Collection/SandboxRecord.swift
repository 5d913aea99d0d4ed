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
    /// The shape of the body behind ``rendered``, so that the next body of that shape is published from its values.
    var shape: BodyShape?
    /// Its containers' cAdvisor rows from CRI, under the sandbox's labels; nil without them.
    public var containers: RenderedSandbox?
    /// Unix time of the last attempt and of the last success.
    public var lastAttempt: Double?
    public var lastSuccess: Double?
    /// The last attempt's failure, if it failed.
    public var lastFailure: ScrapeFailureReason?
    public var lastError: String?
    /// Set while the shim is deliberately not asked (a runtime-rs shim that would abort).
    public var hold: ScrapeHold?
    /// Quick re-checks made while ``hold`` is `.waiting` (then only rounds look again).
    var waitingChecks = 0

    public init(id: String, metadata: PodMetadata? = nil) {
        self.id = id
        self.metadata = metadata
        self.labels = metadata?.labels(sandboxID: id) ?? SandboxLabels(sandboxID: id)
    }

    /// Whether the last attempt succeeded.
    public var isUp: Bool { lastAttempt != nil && lastFailure == nil && hold == nil }

    /// `up`, `failing`, `pending` (not attempted yet, or waiting for runtime-rs's state) or `skipped`.
    public var status: String {
        switch hold {
        case .skipped: "skipped"
        case .waiting: "pending"
        case nil: isUp ? "up" : lastAttempt == nil ? "pending" : "failing"
        }
    }
}
