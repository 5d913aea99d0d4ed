import Logging
import NIOCore
import ServiceLifecycle

/// The agent's services wired together: discovery → collection → snapshot → HTTP.
///
/// Pod metadata comes from `metadataSource` (the executable passes a `KataPulseCRI.CRIClient` for
/// `configuration.runtimeEndpoint`), so this library does not depend on the gRPC stack.
public struct Agent: Sendable {
    public let configuration: AgentConfiguration
    public let store: SnapshotStore
    public let counters: ScrapeCounters
    public let registry: SandboxRegistry
    public let collector: Collector
    public let server: MetricsServer
    /// Pod metadata from CRI; nil without a metadata source (CRI disabled).
    public let resolver: MetadataResolver?
    public let criHealth: CRIHealth?
    /// systemd readiness, status and watchdog, when started by systemd.
    let systemdServices: [any Service]
    /// node_exporter textfile (and later Pushgateway) exports.
    let exportServices: [any Service]

    public init(
        configuration: AgentConfiguration, group: any EventLoopGroup, logger: Logger,
        metadataSource: (any PodMetadataSource)? = nil,
        notifier: SystemdNotifier = SystemdNotifier(environment: [:]), watchdogInterval: Duration? = nil,
        onListening: @escaping @Sendable ([ListenAddress]) -> Void = { _ in }
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
        let progress = CollectionProgress()
        var metadataUpdates: AsyncStream<[String: PodMetadata]>?
        if let metadataSource {
            let health = CRIHealth(endpoint: metadataSource.endpoint)
            let (updates, updatesContinuation) = AsyncStream.makeStream(
                of: [String: PodMetadata].self, bufferingPolicy: .bufferingNewest(1))
            metadataUpdates = updates
            self.criHealth = health
            self.resolver = MetadataResolver(
                configuration: .init(resyncInterval: configuration.criResyncInterval),
                client: metadataSource,
                changes: registry.subscribe(), health: health, logger: logger,
                onUpdate: { updatesContinuation.yield($0) })
        } else {
            self.criHealth = nil
            self.resolver = nil
        }
        let (rounds, roundsContinuation) = AsyncStream.makeStream(
            of: RoundSummary.self, bufferingPolicy: .bufferingNewest(1))
        let (listening, listeningContinuation) = AsyncStream.makeStream(
            of: [ListenAddress].self, bufferingPolicy: .bufferingNewest(1))
        // Exports take the newest round's snapshot; a slow one skips rounds rather than delaying collection.
        let (textfileSnapshots, textfileContinuation) = AsyncStream.makeStream(
            of: Snapshot.self, bufferingPolicy: .bufferingNewest(1))
        let (pushSnapshots, pushContinuation) = AsyncStream.makeStream(
            of: Snapshot.self, bufferingPolicy: .bufferingNewest(1))
        let textfileEnabled = configuration.textfileDirectory != nil
        let pushEnabled = configuration.pushgateway != nil
        let exportCounters = ExportCounters(textfile: textfileEnabled, pushgateway: pushEnabled)
        self.collector = Collector(
            configuration: .init(
                roots: configuration.sandboxRoots, interval: configuration.metricsInterval,
                concurrency: configuration.shimConcurrency, limits: configuration.limits,
                exposition: configuration.exposition, disks: configuration.disks,
                vmContainer: configuration.cadvisorVMContainer),
            changes: registry.changes, client: client, store: store,
            builder: SnapshotBuilder(
                sources: (textfileEnabled || pushEnabled ? [exportCounters] : []) + (criHealth.map { [$0] } ?? [])),
            logger: logger,
            progress: progress, metadata: metadataUpdates,
            onRound: { summary, snapshot in
                roundsContinuation.yield(summary)
                if textfileEnabled { textfileContinuation.yield(snapshot) }
                if pushEnabled { pushContinuation.yield(snapshot) }
            })
        let listeners: [MetricsServer.Listener] =
            configuration.passedListeners.isEmpty
            ? [.address(configuration.listenAddress)] : configuration.passedListeners.map { .passed($0) }
        self.server = MetricsServer(
            configuration: .init(listeners: listeners),
            router: Router(
                store: store, counters: counters, client: client, roots: configuration.sandboxRoots,
                criHealth: criHealth,
                liveness: LivenessCheck(
                    progress: progress, group: group, maxRoundDuration: configuration.livenessRoundLimit,
                    loopDeadline: .seconds(1))),
            group: group, logger: logger,
            onListening: { addresses in
                listeningContinuation.yield(addresses)
                onListening(addresses)
            })
        var systemd: [any Service] = []
        if notifier.isEnabled {
            systemd.append(
                SystemdReadiness(
                    notifier: notifier, registry: registry, listening: listening, rounds: rounds,
                    criHealth: criHealth))
            if let watchdogInterval {
                systemd.append(
                    SystemdWatchdog(
                        notifier: notifier, interval: watchdogInterval, progress: progress, group: group,
                        logger: logger))
            }
        }
        self.systemdServices = systemd
        var exports: [any Service] = []
        if let directory = configuration.textfileDirectory {
            exports.append(
                TextfileExporter(
                    writer: TextfileWriter(directory: directory, name: configuration.textfileName),
                    exposition: configuration.textfileExposition ?? configuration.exposition,
                    removeOnExit: configuration.textfileRemoveOnExit, snapshots: textfileSnapshots,
                    counters: exportCounters, logger: logger))
        }
        if let target = configuration.pushgateway {
            exports.append(
                PushgatewayExporter(
                    target: target, exposition: configuration.exposition, timeout: configuration.pushgatewayTimeout,
                    snapshots: pushSnapshots, counters: exportCounters, group: group, logger: logger))
        }
        self.exportServices = exports
    }

    /// The services in start order; shut down in reverse (systemd's first, so STOPPING=1 goes out at once).
    public var services: [any Service] {
        [registry] + (resolver.map { [$0] } ?? []) + [collector, server] + exportServices + systemdServices
    }

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
