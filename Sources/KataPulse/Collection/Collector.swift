import CMalloc
import Logging
import NIOCore
import ServiceLifecycle

/// Collects every discovered sandbox's shim on an interval and publishes a new ``Snapshot`` after each round.
///
/// Shims are fetched concurrently with a bound, each with its own deadline, so one hung shim costs that
/// deadline and nothing more. Discovery changes apply at once: a removed sandbox leaves the snapshot
/// immediately, a new one is collected shortly after it appears rather than at the next round.
public actor Collector: Service {
    /// When and how sandboxes are collected.
    public struct Configuration: Sendable {
        /// Time between collection rounds.
        public var interval: Duration = .seconds(60)
        /// Shims read at the same time.
        public var concurrency = 16
        /// Bounds on one sandbox's body; a body over any of them is skipped and counted.
        public var limits = ExpositionLimits()
        /// How long after a sandbox appears it is first collected (its socket appears after its directory).
        public var newSandboxDelay: Duration = .milliseconds(300)
        /// Which series each sandbox contributes.
        public var exposition: ExpositionSet = .all
        /// How guest families become cAdvisor's.
        public var cadvisor = CadvisorMapper.Configuration()
        /// Which runtime-rs shims are not asked (they abort on `/metrics`).
        public var runtimeRS = RuntimeRSGuard.Configuration()

        public init() {}
    }

    /// How many times a waiting runtime-rs sandbox is looked at again between rounds (each after
    /// ``Configuration/newSandboxDelay``).
    static let quickWaitingChecks = 20

    /// How many parts a collection is published in, so that about one part of the sandboxes' renderings at
    /// most exists twice (old and new) at once.
    static let interimPublications = 4

    private let configuration: Configuration
    private let changes: AsyncStream<DiscoveryChange>
    private let client: ShimClient
    private let locator: ShimSocketLocator
    private let store: SnapshotStore
    private let builder: SnapshotBuilder
    private let logger: Logger
    private let progress: CollectionProgress
    private let onRound: @Sendable (RoundSummary, Snapshot) -> Void
    private let metadataUpdates: AsyncStream<[String: PodMetadata]>?
    private let containerUpdates: AsyncStream<ContainerUsageUpdate>?
    /// The containers' usage from CRI, as last read.
    private var containerUsage = ContainerUsageUpdate(bySandbox: [:], readAt: 0)
    private var records: [String: SandboxRecord] = [:]
    /// Sandboxes to collect outside the rounds: new ones.
    private nonisolated let partialCollectionRequests: AsyncStream<[String]>
    private nonisolated let partialCollections: AsyncStream<[String]>.Continuation
    /// CRI metadata of discovered sandboxes, as last resolved; it can arrive before discovery reaches us.
    private var metadata: [String: PodMetadata] = [:]
    private var statistics = CollectionStatistics()

    init(
        configuration: Configuration, changes: AsyncStream<DiscoveryChange>, client: ShimClient,
        locator: ShimSocketLocator, store: SnapshotStore, builder: SnapshotBuilder = SnapshotBuilder(), logger: Logger,
        progress: CollectionProgress = CollectionProgress(), metadata: AsyncStream<[String: PodMetadata]>? = nil,
        containers: AsyncStream<ContainerUsageUpdate>? = nil,
        onRound: @escaping @Sendable (RoundSummary, Snapshot) -> Void = { _, _ in }
    ) {
        self.progress = progress
        self.metadataUpdates = metadata
        self.containerUpdates = containers
        (partialCollectionRequests, partialCollections) = AsyncStream.makeStream(of: [String].self)
        self.onRound = onRound
        self.configuration = configuration
        self.changes = changes
        self.client = client
        self.locator = locator
        self.store = store
        self.builder = builder
        self.logger = logger
        statistics.intervalSeconds = configuration.interval.seconds
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await change in self.changes {
                        await self.apply(change)
                        if !change.added.isEmpty { self.partialCollections.yield(change.added) }
                    }
                    self.partialCollections.finish()
                }
                if let metadataUpdates = self.metadataUpdates {
                    group.addTask {
                        for await update in metadataUpdates {
                            await self.apply(update)
                        }
                    }
                }
                if let containerUpdates = self.containerUpdates {
                    group.addTask {
                        for await update in containerUpdates {
                            await self.apply(update)
                        }
                    }
                }
                group.addTask {
                    for await ids in self.partialCollectionRequests {
                        try? await Task.sleep(for: self.configuration.newSandboxDelay)
                        await self.collect(ids, isRound: false)
                    }
                }
                group.addTask {
                    let clock = ContinuousClock()
                    var next = clock.now
                    while !Task.isCancelled {
                        await self.collect(nil, isRound: true)
                        next = max(next + self.configuration.interval, clock.now)
                        try? await Task.sleep(until: next, clock: clock)
                    }
                }
                await group.waitForAll()
            }
        }
    }

    /// Applies a discovery change and republishes at once.
    func apply(_ change: DiscoveryChange) {
        for id in change.removed { records[id] = nil }
        for id in change.added where records[id] == nil {
            var record = SandboxRecord(id: id, metadata: metadata[id])
            record.containers = containerRows(for: record)
            records[id] = record
        }
        publish()
    }

    /// Applies newly read container usage and republishes at once; containers that are gone leave.
    func apply(_ update: ContainerUsageUpdate) {
        containerUsage = update
        for (id, var record) in records {
            record.containers = containerRows(for: record)
            records[id] = record
        }
        publish()
    }

    /// A sandbox's per-container cAdvisor rows under its current labels, as configured.
    private func containerRows(for record: SandboxRecord) -> RenderedSandbox? {
        guard configuration.exposition.contains(.cadvisor), configuration.cadvisor.containers,
            let usage = containerUsage.bySandbox[record.id], !usage.isEmpty
        else { return nil }
        let families = CadvisorContainerMapper.map(
            usage, sandboxID: record.id, namespace: record.labels.criNamespace, pod: record.labels.criName,
            now: containerUsage.readAt)
        return RenderedSandbox(id: record.id, families: families, labels: record.labels)
    }

    /// Applies newly resolved pod metadata and republishes at once: sandboxes already collected are
    /// relabelled from their kept series, so the next snapshot shows each sandbox under one set of labels.
    func apply(_ update: [String: PodMetadata]) {
        metadata = update
        for (id, var record) in records where record.metadata != update[id] {
            let before = (labels: record.labels, startTime: record.metadata?.createdAt)
            record.metadata = update[id]
            // Only what the series carry needs a relabelling (a change of state or handler does not).
            if record.labels != before.labels || record.metadata?.createdAt != before.startTime {
                record.rendered = record.rendered?.relabelled(to: record.labels, startTime: record.metadata?.createdAt)
                record.shape = nil
                record.containers = containerRows(for: record)
            }
            records[id] = record
        }
        publish()
    }

    /// Collects the given sandboxes (all when nil) and publishes the result.
    ///
    /// Each result is recorded as it arrives, and each ``interimPublications``-th part of the sandboxes is
    /// published at once, so that their previous renderings are freed during the round rather than all held
    /// beside the new ones until its end. Those interim snapshots keep the last complete snapshot's gzip body
    /// (compressing is the costly part of a snapshot, done once at the end).
    func collect(_ ids: [String]?, isRound: Bool) async {
        // Each target is made from its record as its collection starts, not all of them up front: a target holds
        // the sandbox's last shape and so its last rendering, which would stay alive until the end of the round.
        let ids = (ids ?? Array(records.keys)).filter { records[$0] != nil }
        let started = ContinuousClock.now
        if isRound { progress.roundDidStart() }
        let batch = max(configuration.concurrency, ids.count / Self.interimPublications + 1)
        var (received, unpublished) = (0, 0)
        let (configuration, client, locator) = (self.configuration, self.client, self.locator)
        await withTaskGroup(of: CollectionResult.self) { group in
            var pending = ids[...]
            func startNext() {
                while let id = pending.popFirst() {
                    // Removed since the round began.
                    guard let record = records[id] else { continue }
                    let target = CollectionTarget(record)
                    group.addTask {
                        await Self.collectOne(target, configuration: configuration, client: client, locator: locator)
                    }
                    return
                }
            }
            for _ in 0..<max(1, configuration.concurrency) { startNext() }
            while let result = await group.next() {
                // A round cut short by shutdown is not a failure of the shims.
                guard !Task.isCancelled else { continue }
                record(result, at: UnixTime.now())
                received += 1
                unpublished += 1
                if unpublished >= batch && received < ids.count {
                    publish(keepingDeflatedBody: true)
                    unpublished = 0
                }
                startNext()
            }
        }
        guard !Task.isCancelled else { return }
        let now = UnixTime.now()
        // A runtime-rs sandbox's state appears within seconds of its socket: look again soon, a few times.
        let waiting = ids.filter { id in
            guard let record = records[id], case .waiting = record.hold else { return false }
            return record.waitingChecks < Self.quickWaitingChecks
        }
        if !waiting.isEmpty { partialCollections.yield(waiting.sorted()) }
        if isRound {
            statistics.rounds += 1
            statistics.lastRoundDurationSeconds = (ContinuousClock.now - started).seconds
            statistics.lastRoundEnd = now
        }
        let snapshot = publish()
        if isRound {
            let up = records.values.filter(\.isUp).count
            let summary = RoundSummary(
                sandboxes: records.count, up: up, failing: records.count - up,
                durationSeconds: statistics.lastRoundDurationSeconds)
            progress.roundDidEnd(summary)
            onRound(summary, snapshot)
            // A round parses every body at once and frees it all; hand the freed pages back to the
            // kernel so the resident size reflects the snapshot, not the round's peak.
            malloc_trim(0)
        }
    }

    private func record(_ result: CollectionResult, at now: Double) {
        // A sandbox removed while its shim was being read stays removed.
        guard var record = records[result.id] else { return }
        let firstAttempt = record.lastAttempt == nil
        record.lastAttempt = now
        record.socketPath = result.socketPath
        if let milliseconds = result.fetchMilliseconds {
            statistics.shimDurations.observe(Double(milliseconds))
        }
        let heldBefore = record.hold
        record.hold = nil
        if case .notAsked(.waiting) = result.outcome {} else { record.waitingChecks = 0 }
        switch result.outcome {
        case .notAsked(let hold):
            record.hold = hold
            record.lastFailure = nil
            record.lastError = hold.message
            switch hold {
            case .skipped(let hypervisor):
                // Once per sandbox: skipping is the steady state of such a sandbox, not news every round.
                if heldBefore != hold {
                    logger.notice(
                        "not asking the sandbox's shim for metrics",
                        metadata: [
                            "sandbox_id": "\(record.id)", "hypervisor": "\(hypervisor)", "reason": "\(hold.message)",
                        ])
                }
                record.rendered = nil
                record.shape = nil
            case .waiting:
                record.waitingChecks += 1
                logger.debug(
                    "sandbox's shim not asked yet",
                    metadata: ["sandbox_id": "\(record.id)", "reason": "\(hold.message)"])
            }
        case .success(let publication):
            let (rendered, relabel, shape) = (publication.rendering, publication.counts, publication.shape)
            if record.lastFailure != nil {
                logger.info("sandbox collected again", metadata: ["sandbox_id": "\(record.id)"])
            }
            // Metadata that arrived while the shim was being read: relabel now rather than publish old labels
            // (and read the next body in full, under the new labels).
            let startTime = record.metadata?.createdAt
            if rendered.labels == record.labels && result.startTime == startTime {
                record.rendered = rendered
                record.shape = shape
            } else {
                record.rendered = rendered.relabelled(to: record.labels, startTime: startTime)
                record.shape = nil
            }
            record.lastSuccess = now
            record.lastFailure = nil
            record.lastError = nil
            statistics.duplicateSeriesDropped += relabel.duplicateSeries
            statistics.reservedFamilySamplesDropped += relabel.reservedFamilySamples
        case .failure(let error):
            statistics.scrapeErrors[error.reason, default: 0] += 1
            // Log when the state changes, not every round: a failing shim must not flood the journal.
            // A new sandbox's directory appears before its socket: not worth a warning yet.
            let starting = error.reason == .noSocket && firstAttempt
            let level: Logger.Level = record.lastFailure == error.reason ? .debug : starting ? .info : .warning
            logger.log(
                level: level, "failed to collect sandbox metrics",
                metadata: ["sandbox_id": "\(record.id)", "reason": "\(error.reason.rawValue)", "error": "\(error)"])
            record.lastFailure = error.reason
            record.lastError = error.message
        }
        records[result.id] = record
    }

    /// Builds and swaps in a snapshot of the records; an interim one keeps the current snapshot's gzip body.
    @discardableResult
    private func publish(keepingDeflatedBody: Bool = false) -> Snapshot {
        let sorted = records.values.sorted { $0.id < $1.id }
        let snapshot = builder.build(
            sandboxes: sorted, statistics: statistics, now: UnixTime.now(),
            deflatedBody: keepingDeflatedBody ? store.snapshot.deflatedBody : nil)
        store.replace(snapshot)
        return snapshot
    }

    struct CollectionResult: Sendable {
        enum Outcome: Sendable {
            case success(Publication)
            case failure(ShimError)
            case notAsked(ScrapeHold)
        }

        var id: String
        var socketPath: String?
        var fetchMilliseconds: Int?
        var outcome: Outcome
        /// The creation time the cAdvisor rows were mapped with.
        var startTime: Double?
    }

    /// What a sandbox publishes from one body.
    struct Publication: Sendable {
        var rendering: RenderedSandbox
        var counts: RelabelResultCounts
        /// The body's shape, for the next body; nil when a shape cannot hold it.
        var shape: BodyShape?
        /// Whether the body was read in full (the first one, or one of another shape than the last).
        var readInFull: Bool
    }

    struct RelabelResultCounts: Sendable {
        var duplicateSeries: Int
        var reservedFamilySamples: Int
    }

    /// What collecting one sandbox needs to know about it.
    struct CollectionTarget: Sendable {
        var id: String
        var labels: SandboxLabels
        /// The pod's creation time from CRI (`container_start_time_seconds`).
        var startTime: Double?
        /// The shape of its last body read in full.
        var shape: BodyShape?

        init(id: String, labels: SandboxLabels, startTime: Double? = nil, shape: BodyShape? = nil) {
            self.id = id
            self.labels = labels
            self.startTime = startTime
            self.shape = shape
        }

        init(_ record: SandboxRecord) {
            self.init(id: record.id, labels: record.labels, startTime: record.metadata?.createdAt, shape: record.shape)
        }
    }

    /// What collecting `body` publishes for a sandbox: the work a round does for each one (benchmarks, fuzzing).
    /// `shape` is the previous body's (nil at first) and becomes this one's, as a round keeps it per sandbox.
    public static func rendering(
        of body: [UInt8], labels: SandboxLabels, startTime: Double? = nil, configuration: Configuration, now: Double,
        shape: inout BodyShape?
    ) throws(ExpositionError) -> RenderedSandbox {
        let target = CollectionTarget(id: labels.sandboxID, labels: labels, startTime: startTime, shape: shape)
        let published = try published(body, for: target, configuration: configuration, now: now)
        shape = published.shape
        return published.rendering
    }

    /// What collecting `body` publishes for a sandbox, read in full (no previous body).
    public static func rendering(
        of body: [UInt8], labels: SandboxLabels, startTime: Double? = nil, configuration: Configuration, now: Double
    ) throws(ExpositionError) -> RenderedSandbox {
        var shape: BodyShape? = nil
        return try rendering(
            of: body, labels: labels, startTime: startTime, configuration: configuration, now: now, shape: &shape)
    }

    /// What one sandbox publishes from its shim's body: the relabelled kata families and the cAdvisor rows,
    /// as the configuration selects, sorted by name, rendered in the pass that reads the body, or from the
    /// values alone when the body has the previous one's shape.
    static func published(
        _ body: [UInt8], for target: CollectionTarget, configuration: Configuration, now: Double
    ) throws(ExpositionError) -> Publication {
        let identity = CadvisorIdentity(
            sandboxID: target.id, namespace: target.labels.criNamespace, pod: target.labels.criName,
            vmContainer: configuration.cadvisor.vmContainer, startTime: target.startTime)
        func rows(_ guest: GuestReadings) -> [MetricFamily] {
            CadvisorMapper.map(guest, identity: identity, disks: configuration.cadvisor.disks, now: now)
        }
        return try body.withUnsafeBufferPointer { body throws(ExpositionError) in
            if let shape = target.shape, let (rendering, next) = shape.render(body, labels: target.labels, rows: rows) {
                let counts = RelabelResultCounts(
                    duplicateSeries: shape.duplicateSeries, reservedFamilySamples: shape.reservedFamilySamples)
                return Publication(rendering: rendering, counts: counts, shape: next, readInFull: false)
            }
            let renderer = SandboxRenderer(
                labels: target.labels, relabels: configuration.exposition.contains(.kata),
                readsGuest: configuration.exposition.contains(.cadvisor), expectedSize: body.count)
            var read = try ExpositionParser(limits: configuration.limits).read(body, into: renderer)
            let counts = RelabelResultCounts(
                duplicateSeries: read.duplicateSeries, reservedFamilySamples: read.reservedFamilySamples)
            let rendering = read.rendered(id: target.id, labels: target.labels, adding: read.guest.map(rows) ?? [])
            return Publication(
                rendering: rendering, counts: counts,
                shape: BodyShape(body: body, renderer: read, rendering: rendering),
                readInFull: true)
        }
    }

    static func collectOne(
        _ target: CollectionTarget, configuration: Configuration, client: ShimClient, locator: ShimSocketLocator
    ) async -> CollectionResult {
        let (id, startTime) = (target.id, target.startTime)
        guard let socketPath = locator.locate(sandboxID: id) else {
            let tried = locator.candidates(sandboxID: id).joined(separator: ", ")
            return CollectionResult(
                id: id, socketPath: nil, fetchMilliseconds: nil,
                outcome: .failure(ShimError(reason: .noSocket, message: "no shim socket at \(tried)")))
        }
        if let hold = RuntimeRSGuard(configuration: configuration.runtimeRS).hold(socketPath: socketPath) {
            return CollectionResult(id: id, socketPath: socketPath, fetchMilliseconds: nil, outcome: .notAsked(hold))
        }
        let started = ContinuousClock.now
        let body: [UInt8]
        do {
            body = try await client.metrics(socketPath: socketPath)
        } catch {
            return CollectionResult(
                id: id, socketPath: socketPath, fetchMilliseconds: (ContinuousClock.now - started).milliseconds,
                outcome: .failure(error))
        }
        let milliseconds = (ContinuousClock.now - started).milliseconds
        let published: Publication
        do {
            published = try Self.published(body, for: target, configuration: configuration, now: UnixTime.now())
        } catch {
            return CollectionResult(
                id: id, socketPath: socketPath, fetchMilliseconds: milliseconds,
                outcome: .failure(
                    ShimError(reason: error.kind == .limit ? .limit : .parse, message: "body rejected: \(error)")))
        }
        return CollectionResult(
            id: id, socketPath: socketPath, fetchMilliseconds: milliseconds, outcome: .success(published),
            startTime: startTime)
    }
}
