import Logging
import NIOCore
import ServiceLifecycle

/// The agent's services wired together: discovery → collection → snapshot → HTTP.
public struct Agent: Sendable {
    public let configuration: AgentConfiguration
    public let store: SnapshotStore
    public let counters: ScrapeCounters
    public let registry: SandboxRegistry
    public let collector: Collector
    public let server: MetricsServer

    public init(
        configuration: AgentConfiguration, group: any EventLoopGroup, logger: Logger,
        onListening: @escaping @Sendable (ListenAddress) -> Void = { _ in }
    ) {
        self.configuration = configuration
        let store = SnapshotStore(.empty(now: UnixTime.now()))
        let counters = ScrapeCounters()
        let client = ShimClient(
            group: group, timeout: TimeAmount(configuration.shimTimeout), maxBodySize: configuration.maxBodySize)
        let registry = SandboxRegistry(
            configuration: .init(roots: configuration.sandboxRoots, rescanInterval: configuration.rescanInterval),
            logger: logger)
        self.store = store
        self.counters = counters
        self.registry = registry
        self.collector = Collector(
            configuration: .init(
                roots: configuration.sandboxRoots, interval: configuration.metricsInterval,
                concurrency: configuration.shimConcurrency, limits: configuration.limits,
                exposition: configuration.exposition, disks: configuration.disks,
                vmContainer: configuration.cadvisorVMContainer),
            changes: registry.changes, client: client, store: store, logger: logger)
        self.server = MetricsServer(
            configuration: .init(address: configuration.listenAddress),
            router: Router(store: store, counters: counters, client: client, roots: configuration.sandboxRoots),
            group: group, logger: logger, onListening: onListening)
    }

    /// The services in start order; shut down in reverse.
    public var services: [any Service] { [registry, collector, server] }

    /// Runs every service until SIGTERM/SIGINT (or cancellation), then shuts down gracefully.
    public func run(logger: Logger, extraServices: [any Service] = []) async throws {
        var configuration = ServiceGroupConfiguration(
            services: (extraServices + services).map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // Past this, services are cancelled; every wait in them (shim fetches included) honours cancellation.
        configuration.maximumGracefulShutdownDuration = .milliseconds(800)
        try await ServiceGroup(configuration: configuration).run()
    }
}
