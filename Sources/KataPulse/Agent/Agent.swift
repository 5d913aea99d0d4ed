import Logging
import NIOCore
import ServiceLifecycle

/// The agent's services wired together: discovery → collection → snapshot → HTTP and exports.
///
/// Pod metadata comes from `metadataSource` (the executable passes a `KataPulseCRI.CRIClient`), so this
/// library does not depend on the gRPC stack; the web configuration comes loaded (``WebAccess``, with
/// `KataPulseTLS`'s provider), so that a bad file stops the executable before anything starts.
public struct Agent: Sendable {
    /// The services in start order; shut down in reverse (systemd's first, so STOPPING=1 goes out at once).
    private let services: [any Service]
    /// The newest snapshot, CRI's health when CRI is on, and the API's connections: read by tests.
    let store: SnapshotStore
    let criHealth: CRIHealth?
    let limiter: ConnectionLimiter

    /// The agent `configuration` describes; `tlsClientProvider` (`KataPulseTLS`'s) makes the TLS to
    /// `https://` remote-write receivers. Throws when a remote-write queue's folder cannot be made or read
    /// (``TextfileError``), or a TLS file cannot be used (``ClientTLSError``).
    public init(
        configuration: AgentConfiguration, group: any EventLoopGroup, logger: Logger,
        metadataSource: (any PodMetadataSource)? = nil, access: WebAccess? = nil,
        tlsClientProvider: (any TLSClientProvider)? = nil,
        onListening: @escaping @Sendable ([ListenAddress]) -> Void = { _ in }
    ) throws {
        let store = SnapshotStore(.empty(now: UnixTime.now()))
        let client = ShimClient(configuration: configuration.shim, group: group)
        let locator = ShimSocketLocator(roots: configuration.discovery.roots)
        let registry = SandboxRegistry(configuration: configuration.discovery, logger: logger)
        let progress = CollectionProgress()
        let criHealth = metadataSource.map { CRIHealth(endpoint: $0.endpoint) }
        let metadata = AsyncStream.makeStream(of: [String: PodMetadata].self, bufferingPolicy: .bufferingNewest(1))
        let resolver = zip(metadataSource, criHealth).map { source, health in
            MetadataResolver(
                configuration: configuration.metadata, client: source, changes: registry.subscribe(), health: health,
                logger: logger, onUpdate: { metadata.continuation.yield($0) })
        }
        let containerUpdates = AsyncStream.makeStream(
            of: ContainerUsageUpdate.self, bufferingPolicy: .bufferingNewest(1))
        let collection = configuration.collection
        let containerCollector = zip(metadataSource as? any ContainerUsageSource, criHealth).flatMap {
            source, health -> ContainerUsageCollector? in
            guard collection.exposition.contains(.cadvisor), collection.cadvisor.containers else { return nil }
            return ContainerUsageCollector(
                interval: collection.interval, source: source, health: health, logger: logger,
                onUpdate: { containerUpdates.continuation.yield($0) })
        }
        let served = configuration.collection.exposition
        let remoteWrite = try RemoteWriteExport(
            configuration: configuration.remoteWrite, served: served, tlsProvider: tlsClientProvider)
        let exports: [any SnapshotExport] = [
            TextfileExport(configuration: configuration.textfile, served: served) as (any SnapshotExport)?,
            PushgatewayExport(configuration: configuration.pushgateway, served: served, group: group),
            remoteWrite,
        ].compactMap { $0 }
        let exportHealth = ExportHealth(exports.map(\.descriptor))
        let rounds = AsyncStream.makeStream(of: RoundSummary.self, bufferingPolicy: .bufferingNewest(1))
        let snapshots = AsyncStream.makeStream(of: Snapshot.self, bufferingPolicy: .bufferingNewest(1))
        let listening = AsyncStream.makeStream(of: [ListenAddress].self, bufferingPolicy: .bufferingNewest(1))
        let limiter = ConnectionLimiter(configuration: configuration.server)
        let access = access ?? .unrestricted()
        let ownSources: [any OwnMetricsSource] =
            [limiter] + (access.configuration.file == nil ? [] : [access]) + (exports.isEmpty ? [] : [exportHealth])
            + [criHealth].compactMap { $0 } + [remoteWrite?.metrics].compactMap { $0 }
        let collector = Collector(
            configuration: configuration.collection, changes: registry.changes, client: client, locator: locator,
            store: store, builder: SnapshotBuilder(sources: ownSources), logger: logger, progress: progress,
            metadata: resolver == nil ? nil : metadata.stream,
            containers: containerCollector == nil ? nil : containerUpdates.stream,
            onRound: { [hasExports = !exports.isEmpty] summary, snapshot in
                rounds.continuation.yield(summary)
                // Only for a reader: a snapshot held in an unread stream would keep a round's renderings alive.
                if hasExports { snapshots.continuation.yield(snapshot) }
            })
        let router = Router(
            store: store, counters: ScrapeCounters(), client: client, locator: locator, criHealth: criHealth,
            liveness: LivenessCheck(configuration: configuration.liveness, progress: progress, group: group))
        let server = MetricsServer(
            configuration: configuration.server, router: router, limiter: limiter, access: access, group: group,
            logger: logger,
            onListening: { addresses in
                listening.continuation.yield(addresses)
                onListening(addresses)
            })
        let systemd = SystemdServices.make(
            configuration.systemd, registry: registry, listening: listening.stream, rounds: rounds.stream,
            criHealth: criHealth, progress: progress, group: group, logger: logger)
        let exporting: [any Service] =
            exports.isEmpty
            ? []
            : [SnapshotExports(exports: exports, snapshots: snapshots.stream, health: exportHealth, logger: logger)]
        let watcher: [any Service] =
            access.configuration.file == nil ? [] : [WebConfigWatcher(access: access, logger: logger)]
        self.services =
            [registry] + [resolver].compactMap { $0 } + [containerCollector].compactMap { $0 }
            + [collector, server] + watcher + exporting
            + (remoteWrite?.senders(group: group, logger: logger) ?? []) + systemd
        self.store = store
        self.criHealth = criHealth
        self.limiter = limiter
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

/// Both values, or nil when either is missing.
private func zip<A, B>(_ first: A?, _ second: B?) -> (A, B)? {
    guard let first, let second else { return nil }
    return (first, second)
}
