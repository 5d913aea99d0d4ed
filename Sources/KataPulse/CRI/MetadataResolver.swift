import Logging
import ServiceLifecycle

/// Keeps pod metadata for every discovered sandbox, from the node's CRI runtime.
///
/// It lists the runtime's pod sandboxes when new sandboxes are discovered (one call for a burst), every
/// `resyncInterval`, and after a failure with a backoff that doubles up to `resyncInterval` and never gives
/// up. Sandboxes the runtime does not list yet (a Kata sandbox's directory appears before CRI reports it)
/// stay pending and are asked about again, sooner at first. Nothing waits for it: each change of the metadata
/// of discovered sandboxes goes to `onUpdate`, and collection carries on with whatever is known.
public actor MetadataResolver: Service {
    /// How often and how patiently the runtime is asked.
    /// How often the runtime is asked.
    public struct Configuration: Sendable {
        /// Period of the full re-list; also the longest wait between retries.
        public var resyncInterval: Duration = .seconds(30)
        /// First wait after a failure or for pending sandboxes; doubles each time, up to ``resyncInterval``.
        public var initialRetry: Duration = .milliseconds(500)

        public init() {}

        var firstRetry: Duration { min(initialRetry, resyncInterval) }
    }

    private enum Input: Sendable {
        case discovered
        case timer(generation: Int)
    }

    private let configuration: Configuration
    private let client: any PodMetadataSource
    private let changes: AsyncStream<DiscoveryChange>
    private let health: CRIHealth
    private let logger: Logger
    private let onUpdate: @Sendable ([String: PodMetadata]) -> Void
    /// Every sandbox the runtime listed last time.
    private var listed: [String: PodMetadata] = [:]
    private var discovered: Set<String> = []
    /// Metadata of discovered sandboxes, as last sent to `onUpdate`.
    private var published: [String: PodMetadata] = [:]
    /// New sandboxes were discovered since the last call began.
    private var needsList = false
    private var failing = false
    private var everReachable = false
    private var errorRetry: Duration
    private var pendingRetry: Duration

    public init(
        configuration: Configuration, client: any PodMetadataSource, changes: AsyncStream<DiscoveryChange>,
        health: CRIHealth,
        logger: Logger, onUpdate: @escaping @Sendable ([String: PodMetadata]) -> Void
    ) {
        self.configuration = configuration
        self.client = client
        self.changes = changes
        self.health = health
        self.logger = logger
        self.onUpdate = onUpdate
        self.errorRetry = configuration.firstRetry
        self.pendingRetry = configuration.firstRetry
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.serve() }
    }

    private func serve() async {
        let (inputs, inputContinuation) = AsyncStream.makeStream(of: Input.self)
        let client = client
        await withDiscardingTaskGroup { group in
            group.addTask { try? await client.run() }
            group.addTask {
                for await change in self.changes {
                    await self.apply(change)
                    inputContinuation.yield(.discovered)
                }
            }
            var generation = 0
            inputContinuation.yield(.timer(generation: generation))
            for await input in inputs {
                if Task.isCancelled { break }
                switch input {
                case .discovered:
                    // While failing, the backoff decides; otherwise a burst of discoveries is one call.
                    guard needsList, !failing else { continue }
                case .timer(let fired):
                    guard fired == generation else { continue }
                }
                let delay = await resolve()
                generation += 1
                let next = generation
                group.addTask {
                    try? await Task.sleep(for: delay)
                    inputContinuation.yield(.timer(generation: next))
                }
            }
            group.cancelAll()
        }
        inputContinuation.finish()
    }

    private func apply(_ change: DiscoveryChange) {
        discovered = Set(change.current)
        if !change.added.isEmpty {
            needsList = true
            pendingRetry = configuration.firstRetry
        }
        publish()
    }

    /// Asks the runtime once; returns how long to wait before asking again.
    private func resolve() async -> Duration {
        needsList = false
        do {
            if !everReachable || failing { try await logVersion() }
            listed = try await health.measure(.listPodSandbox) { () throws(CRIError) in
                try await client.listPodSandboxes()
            }
        } catch {
            if Task.isCancelled { return configuration.resyncInterval }
            noteFailure(error)
            defer { errorRetry = min(errorRetry * 2, configuration.resyncInterval) }
            return errorRetry
        }
        if failing {
            logger.info("CRI runtime answers again", metadata: ["endpoint": "\(client.endpoint)"])
        }
        failing = false
        errorRetry = configuration.firstRetry
        publish()
        if published.count < discovered.count {
            defer { pendingRetry = min(pendingRetry * 2, configuration.resyncInterval) }
            return pendingRetry
        }
        pendingRetry = configuration.firstRetry
        return configuration.resyncInterval
    }

    /// Calls `Version`, logging the runtime's name the first time it answers after being unknown or failing.
    private func logVersion() async throws(CRIError) {
        let version = try await health.measure(.version) { () throws(CRIError) in try await client.version() }
        everReachable = true
        logger.info(
            "CRI runtime reachable",
            metadata: [
                "endpoint": "\(client.endpoint)", "runtime": "\(version.runtimeName)",
                "runtime_version": "\(version.runtimeVersion)", "api_version": "\(version.apiVersion)",
            ])
    }

    private func noteFailure(_ error: CRIError) {
        // Once per outage: a host without Kubernetes must not fill the journal.
        if !failing {
            let metadata: Logger.Metadata = [
                "endpoint": "\(client.endpoint)", "error": "\(error)",
            ]
            if everReachable {
                logger.warning("CRI runtime unreachable; keeping the pod metadata already known", metadata: metadata)
            } else {
                logger.notice(
                    "CRI runtime unavailable; pod labels stay empty until it answers (--runtime-endpoint none disables CRI)",
                    metadata: metadata)
            }
        } else {
            logger.debug("CRI call failed", metadata: ["error": "\(error)"])
        }
        failing = true
    }

    /// Sends the metadata of the discovered sandboxes when it changed.
    private func publish() {
        var current: [String: PodMetadata] = [:]
        for id in discovered {
            if let metadata = listed[id] { current[id] = metadata }
        }
        health.setPendingSandboxes(discovered.count - current.count)
        guard current != published else { return }
        published = current
        onUpdate(current)
    }
}
