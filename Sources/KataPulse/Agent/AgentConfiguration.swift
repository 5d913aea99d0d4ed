import Logging
import NIOCore

/// Everything the agent needs to run, resolved from flags and environment by the executable.
public struct AgentConfiguration: Sendable {
    public var listenAddress: ListenAddress
    /// The CRI socket path for pod metadata; nil when disabled (`none`).
    public var runtimeEndpoint: String?
    /// Deadline of one CRI call.
    public var criTimeout: Duration = .seconds(2)
    /// Period of the full CRI re-list, and the longest retry backoff.
    public var criResyncInterval: Duration = .seconds(30)
    /// `/healthz` answers 503 while a collection round has run longer than this (a wedged collector).
    public var livenessRoundLimit: Duration = .seconds(60)
    public var logLevel: Logger.Level
    public var logFormat: LogFormat = .auto
    public var metricsInterval: Duration
    public var sandboxRoots: [String]
    public var shimTimeout: Duration
    public var shimConcurrency: Int
    public var maxBodySize: Int
    public var limits: ExpositionLimits
    public var rescanInterval: Duration
    /// Which series are published.
    public var exposition: ExpositionSet
    /// Guest disks excluded from `container_fs_*`.
    public var disks: DiskFilter
    /// Labels the VM as a pseudo-container of this name in cAdvisor series.
    public var cadvisorVMContainer: String?
    /// Sockets systemd passed (socket activation); when present, `listenAddress` is not bound.
    public var passedListeners: [PassedListener] = []
    /// node_exporter textfile export: directory (off when nil), file name, series, removal on exit.
    public var textfileDirectory: String?
    public var textfileName = "kata-pulse.prom"
    /// Series in the textfile; nil means the same as ``exposition``.
    public var textfileExposition: ExpositionSet?
    public var textfileRemoveOnExit = false
    /// Pushgateway export (off when nil) and the deadline of one push.
    public var pushgateway: PushgatewayTarget?
    public var pushgatewayTimeout: Duration = .seconds(5)

    public static let defaultSandboxRoots = ["/run/vc/sbs", "/run/kata"]

    public init(
        listenAddress: ListenAddress = .tcp(host: "127.0.0.1", port: 8090),
        runtimeEndpoint: String? = "/run/containerd/containerd.sock",
        logLevel: Logger.Level = .info,
        metricsInterval: Duration = .seconds(60),
        sandboxRoots: [String] = defaultSandboxRoots,
        shimTimeout: Duration = .milliseconds(3000),
        shimConcurrency: Int = 16,
        maxBodySize: Int = ShimClient.defaultMaxBodySize,
        limits: ExpositionLimits = .default,
        rescanInterval: Duration = .seconds(30),
        exposition: ExpositionSet = .all,
        disks: DiskFilter = try! DiskFilter(),
        cadvisorVMContainer: String? = nil
    ) {
        self.listenAddress = listenAddress
        self.runtimeEndpoint = runtimeEndpoint
        self.logLevel = logLevel
        self.metricsInterval = metricsInterval
        self.sandboxRoots = sandboxRoots
        self.shimTimeout = shimTimeout
        self.shimConcurrency = shimConcurrency
        self.maxBodySize = maxBodySize
        self.limits = limits
        self.rescanInterval = rescanInterval
        self.exposition = exposition
        self.disks = disks
        self.cadvisorVMContainer = cadvisorVMContainer
    }

    /// Parses a `--runtime-endpoint` value: `/path`, `unix:///path`, `unix:/path`, or `none`.
    public static func parseRuntimeEndpoint(_ text: String) -> Result<String?, ConfigurationError> {
        if text == "none" { return .success(nil) }
        var path = text
        if path.hasPrefix("unix://") {
            path = String(path.dropFirst("unix://".count))
        } else if path.hasPrefix("unix:") {
            path = String(path.dropFirst("unix:".count))
        }
        guard path.hasPrefix("/"), !path.contains("\0") else {
            return .failure(
                ConfigurationError(
                    "expected a unix socket path (/path, unix:///path, unix:/path) or none, got '\(text)'"))
        }
        // sockaddr_un holds 108 bytes with the terminating NUL.
        guard path.utf8.count <= 107 else {
            return .failure(ConfigurationError("unix socket path longer than 107 bytes: '\(text)'"))
        }
        return .success(path)
    }
}

/// A configuration value that cannot be used.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
