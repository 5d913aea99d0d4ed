/// Everything the agent's services need: each service's own `Configuration`, composed. The executable fills
/// it in from flags and environment; every field's default is the service's.
public struct AgentConfiguration: Sendable {
    /// Sandbox roots and rescans; the roots are also where shim sockets are looked up.
    public var discovery = SandboxRegistry.Configuration()
    /// Deadline and body cap of one shim request.
    public var shim = ShimClient.Configuration()
    /// Rounds, concurrency, per-sandbox limits and the series published.
    public var collection = Collector.Configuration()
    /// The HTTP API's listeners and request limits.
    public var server = MetricsServer.Configuration()
    /// The web configuration file (TLS, basic authentication, headers); the executable loads it into the
    /// ``WebAccess`` it passes to ``Agent``.
    public var web = WebAccess.Configuration()
    /// When `/healthz` reports the agent wedged.
    public var liveness = LivenessCheck.Configuration()
    /// How often the CRI runtime is asked for pod metadata (when a metadata source is given).
    public var metadata = MetadataResolver.Configuration()
    /// node_exporter textfile snapshots (off without a directory).
    public var textfile = TextfileExport.Configuration()
    /// Pushgateway pushes (off without a URL).
    public var pushgateway = PushgatewayExport.Configuration()
    /// Prometheus remote write through durable queues (off without a receiver).
    public var remoteWrite = RemoteWriteExport.Configuration()
    /// systemd's notifications and watchdog (off unless systemd asked).
    public var systemd = SystemdConfiguration()

    public init() {}
}
