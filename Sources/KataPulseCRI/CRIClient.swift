import CRIRuntimeV1
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import KataPulse
import NIOCore

/// A client of the node's container runtime over CRI `runtime.v1` (containerd, CRI-O) on a unix socket.
///
/// One long-lived HTTP/2 connection, made on first use and made again after the runtime restarts or its
/// socket is recreated; ``run()`` must be running for calls to proceed. Every call has a deadline and a
/// response size limit, and fails at once instead of queueing while the runtime is unreachable.
public struct CRIClient: PodMetadataSource, ContainerUsageSource {
    /// How the client reaches the runtime.
    public struct Configuration: Sendable {
        /// The runtime's unix socket path.
        public var socketPath: String
        /// Deadline of every call, connecting included.
        public var timeout: Duration
        /// Largest response accepted; a larger one fails the call.
        public var maxResponseBytes: Int
        /// Longest wait between attempts to reconnect a lost connection.
        public var maxReconnectBackoff: Duration

        /// The deadline a call gets unless configured otherwise.
        public static let defaultTimeout: Duration = .seconds(2)

        public init(
            socketPath: String, timeout: Duration = defaultTimeout, maxResponseBytes: Int = 16 << 20,
            maxReconnectBackoff: Duration = .seconds(5)
        ) {
            self.socketPath = socketPath
            self.timeout = timeout
            self.maxResponseBytes = maxResponseBytes
            self.maxReconnectBackoff = maxReconnectBackoff
        }
    }

    public let configuration: Configuration
    private let client: GRPCClient<HTTP2ClientTransport.Posix>

    public init(configuration: Configuration, group: any EventLoopGroup) throws {
        self.configuration = configuration
        let transport = try HTTP2ClientTransport.Posix(
            target: .unixDomainSocket(path: configuration.socketPath),
            transportSecurity: .plaintext,
            config: .defaults { config in
                // gRPC's default backoff grows to two minutes: a restarted runtime would go unnoticed that long.
                config.backoff = .init(
                    initial: .milliseconds(200), max: configuration.maxReconnectBackoff, multiplier: 1.6, jitter: 0.2)
                config.connection.maxIdleTime = nil
            },
            eventLoopGroup: group)
        self.client = GRPCClient(transport: transport)
    }

    public var endpoint: String { configuration.socketPath }

    /// Maintains the connection until cancellation (or ``shutdown()``).
    public func run() async throws {
        let client = client
        try await withTaskCancellationHandler {
            try await client.runConnections()
        } onCancel: {
            client.beginGracefulShutdown()
        }
    }

    /// Stops the connection; calls in flight finish or fail.
    public func shutdown() {
        client.beginGracefulShutdown()
    }

    /// The runtime's name and versions.
    public func version() async throws(CRIError) -> CRIRuntimeVersion {
        let response = try await call(.version) { client, options in
            try await Runtime_V1_RuntimeService.Client(wrapping: client).version(
                request: ClientRequest(message: .with { $0.version = "v1" }), options: options)
        }
        return CRIRuntimeVersion(
            runtimeName: response.runtimeName, runtimeVersion: response.runtimeVersion,
            apiVersion: response.runtimeApiVersion)
    }

    /// Every pod sandbox the runtime knows, by sandbox id.
    public func listPodSandboxes() async throws(CRIError) -> [String: PodMetadata] {
        let response = try await call(.listPodSandbox) { client, options in
            try await Runtime_V1_RuntimeService.Client(wrapping: client).listPodSandbox(
                request: ClientRequest(message: Runtime_V1_ListPodSandboxRequest()), options: options)
        }
        return PodMetadata.index(response)
    }

    /// The running containers of every pod sandbox.
    public func listRunningContainers() async throws(CRIError) -> [ContainerUsage.Container] {
        let response = try await call(.listContainers) { client, options in
            try await Runtime_V1_RuntimeService.Client(wrapping: client).listContainers(
                request: ClientRequest(message: .with { $0.filter.state.state = .containerRunning }), options: options)
        }
        return response.containers.map(ContainerUsage.Container.init)
    }

    /// Every container's usage, by container id.
    public func listContainerStats() async throws(CRIError) -> [String: ContainerUsage.Stats] {
        let response = try await call(.listContainerStats) { client, options in
            try await Runtime_V1_RuntimeService.Client(wrapping: client).listContainerStats(
                request: ClientRequest(message: Runtime_V1_ListContainerStatsRequest()), options: options)
        }
        return ContainerUsage.Stats.index(response)
    }

    private func call<Response: Sendable>(
        _ method: CRIMethod,
        _ body: (GRPCClient<HTTP2ClientTransport.Posix>, CallOptions) async throws -> Response
    ) async throws(CRIError) -> Response {
        var options = CallOptions.defaults
        options.timeout = configuration.timeout
        options.maxResponseMessageBytes = configuration.maxResponseBytes
        // Fail at once while the runtime is unreachable; the resolver retries on its own schedule.
        options.waitForReady = false
        do {
            return try await body(client, options)
        } catch let error as RPCError {
            throw CRIError(method: method, code: CRIError.codeName(error.code.rawValue), message: error.message)
        } catch is CancellationError {
            throw CRIError(method: method, code: "Canceled", message: "cancelled")
        } catch {
            throw CRIError(method: method, code: "Unknown", message: "\(error)")
        }
    }
}

extension PodMetadata {
    /// Reads one `ListPodSandbox` item; `created_at` is in nanoseconds, 0 when unknown.
    init(_ sandbox: Runtime_V1_PodSandbox) {
        self.init(
            uid: sandbox.metadata.uid, name: sandbox.metadata.name, namespace: sandbox.metadata.namespace,
            createdAt: sandbox.createdAt > 0 ? UnixTime.seconds(nanoseconds: sandbox.createdAt) : nil,
            runtimeHandler: sandbox.runtimeHandler, state: sandbox.state == .sandboxReady ? .ready : .notReady)
    }

    /// Metadata by sandbox id from a `ListPodSandbox` response; items without an id are skipped.
    static func index(_ response: Runtime_V1_ListPodSandboxResponse) -> [String: PodMetadata] {
        var index: [String: PodMetadata] = [:]
        index.reserveCapacity(response.items.count)
        for item in response.items where !item.id.isEmpty {
            index[item.id] = PodMetadata(item)
        }
        return index
    }
}

extension ContainerUsage.Container {
    /// Reads one `ListContainers` item; `created_at` is in nanoseconds, 0 when unknown.
    init(_ container: Runtime_V1_Container) {
        let image =
            container.image.userSpecifiedImage.isEmpty ? container.image.image : container.image.userSpecifiedImage
        self.init(
            id: container.id, sandboxID: container.podSandboxID, name: container.metadata.name,
            image: image.isEmpty ? container.imageRef : image,
            createdAt: container.createdAt > 0 ? UnixTime.seconds(nanoseconds: container.createdAt) : nil)
    }
}

extension ContainerUsage.Stats {
    /// Reads one `ListContainerStats` item; a value the runtime left unset stays nil.
    init(_ stats: Runtime_V1_ContainerStats) {
        let cpu = stats.hasCpu ? stats.cpu : nil
        let memory = stats.hasMemory ? stats.memory : nil
        let layer = stats.hasWritableLayer ? stats.writableLayer : nil
        self.init(
            cpuNanoseconds: cpu.flatMap { $0.hasUsageCoreNanoSeconds ? $0.usageCoreNanoSeconds.value : nil },
            workingSetBytes: memory.flatMap { $0.hasWorkingSetBytes ? $0.workingSetBytes.value : nil },
            usageBytes: memory.flatMap { $0.hasUsageBytes ? $0.usageBytes.value : nil },
            rssBytes: memory.flatMap { $0.hasRssBytes ? $0.rssBytes.value : nil },
            pageFaults: memory.flatMap { $0.hasPageFaults ? $0.pageFaults.value : nil },
            majorPageFaults: memory.flatMap { $0.hasMajorPageFaults ? $0.majorPageFaults.value : nil },
            swapBytes: stats.hasSwap && stats.swap.hasSwapUsageBytes ? stats.swap.swapUsageBytes.value : nil,
            writableLayerBytes: layer.flatMap { $0.hasUsedBytes ? $0.usedBytes.value : nil },
            writableLayerMountpoint: layer?.fsID.mountpoint ?? "")
    }

    /// Usage by container id from a `ListContainerStats` response; items without an id are skipped.
    static func index(_ response: Runtime_V1_ListContainerStatsResponse) -> [String: ContainerUsage.Stats] {
        var index: [String: ContainerUsage.Stats] = [:]
        for item in response.stats where !item.attributes.id.isEmpty {
            index[item.attributes.id] = ContainerUsage.Stats(item)
        }
        return index
    }
}
