import Logging
import ServiceLifecycle

/// Every running container's usage, by sandbox id, as read at one time.
public struct ContainerUsageUpdate: Sendable, Equatable {
    public var bySandbox: [String: [ContainerUsage]]
    /// Unix time the runtime answered (`container_last_seen`).
    public var readAt: Double
}

/// Asks the runtime for every running container's usage (`ListContainers`, then `ListContainerStats`) once per
/// collection interval, and hands it on. It runs beside collection and never delays it: a runtime that hangs
/// costs its own calls their deadline. After a failure it asks again sooner (0.5 s, doubling up to the
/// interval); the last good usage stands until the calls have failed for a whole interval, then the
/// per-container rows are withdrawn (the pod-level rows stay).
public actor ContainerUsageCollector: Service {
    private let interval: Duration
    private let source: any ContainerUsageSource
    private let health: CRIHealth
    private let logger: Logger
    private let onUpdate: @Sendable (ContainerUsageUpdate) -> Void
    private var failingSince: ContinuousClock.Instant?
    private var withdrawn = false

    public init(
        interval: Duration, source: any ContainerUsageSource, health: CRIHealth, logger: Logger,
        onUpdate: @escaping @Sendable (ContainerUsageUpdate) -> Void
    ) {
        self.interval = interval
        self.source = source
        self.health = health
        self.logger = logger
        self.onUpdate = onUpdate
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.loop() }
    }

    private func loop() async {
        let clock = ContinuousClock()
        let firstRetry = min(Duration.milliseconds(500), interval)
        var retry = firstRetry
        var next = clock.now
        while !Task.isCancelled {
            if await poll() {
                retry = firstRetry
                next = max(next + interval, clock.now)
            } else {
                next = clock.now + retry
                retry = min(retry * 2, interval)
            }
            try? await Task.sleep(until: next, clock: clock)
        }
    }

    /// One reading; false when a call failed.
    func poll() async -> Bool {
        let source = source
        do {
            let containers = try await health.measure(.listContainers) { () throws(CRIError) in
                try await source.listRunningContainers()
            }
            let stats = try await health.measure(.listContainerStats) { () throws(CRIError) in
                try await source.listContainerStats()
            }
            if failingSince != nil {
                logger.info("per-container usage from CRI again")
            }
            failingSince = nil
            withdrawn = false
            onUpdate(
                ContainerUsageUpdate(
                    bySandbox: ContainerUsage.bySandbox(containers: containers, stats: stats), readAt: UnixTime.now()))
            return true
        } catch {
            if Task.isCancelled { return false }
            let now = ContinuousClock.now
            if let failingSince {
                if !withdrawn && now - failingSince >= interval {
                    withdrawn = true
                    onUpdate(ContainerUsageUpdate(bySandbox: [:], readAt: UnixTime.now()))
                    logger.warning(
                        "per-container usage withdrawn: CRI has failed for a whole interval",
                        metadata: ["error": "\(error)"])
                }
            } else {
                failingSince = now
                // Once per outage; the CRI health families count every failure.
                logger.notice(
                    "cannot read per-container usage from CRI; keeping the last for now",
                    metadata: ["error": "\(error)"])
            }
            return false
        }
    }
}
