import CRIRuntimeV1
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Synchronization

@testable import KataPulse
@testable import KataPulseCRI

/// A CRI `runtime.v1` runtime in-process, served by grpc-swift-2 on a unix socket: it lists the sandboxes and
/// containers (with their usage) a test gives it and can be told to fail, to never answer, or be stopped and
/// started again on the same path.
final class TestCRIServer: Sendable {
    /// How the runtime answers.
    enum Behaviour: Sendable {
        case answer
        /// Every call fails with this status.
        case fail(RPCError.Code)
        /// Calls never finish (until cancelled by the client's deadline).
        case hang
    }

    let socketPath: String
    private let state = Mutex(
        (
            sandboxes: [Runtime_V1_PodSandbox](), behaviour: Behaviour.answer, calls: 0, server: ServerTask?.none,
            stopped: Set<ObjectIdentifier>(), containers: [Runtime_V1_Container](),
            stats: [String: Runtime_V1_ContainerStats](), statsBehaviour: Behaviour.answer, statsCalls: 0
        ))

    private struct ServerTask: Sendable {
        let server: GRPCServer<HTTP2ServerTransport.Posix>
        let task: Task<Void, any Error>
    }

    init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// Starts serving; returns once the socket accepts connections.
    func start() async throws {
        let server = GRPCServer(
            transport: .http2NIOPosix(
                address: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext,
                eventLoopGroup: testGroup),
            services: [Service(owner: self)])
        let task = Task { [self] in
            defer { self.state.withLock { _ = $0.stopped.insert(ObjectIdentifier(server)) } }
            try await server.serve()
        }
        state.withLock { $0.server = ServerTask(server: server, task: task) }
        _ = try await server.listeningAddress
    }

    /// Stops serving and waits until the socket is closed.
    func stop() async {
        guard
            let running = state.withLock({ state in
                defer { state.server = nil }; return state.server
            })
        else {
            return
        }
        running.server.beginGracefulShutdown()
        // Cancelling `serve()` at once can trap in the HTTP/2 transport when a client's new stream is still
        // buffered (NIOAsyncWriter deinit): let the graceful shutdown finish, and cancel only if it hangs
        // (calls parked in `.hang` end with the cancellation).
        let finished = await eventually(timeout: .seconds(5), interval: .milliseconds(10)) {
            state.withLock { $0.stopped.contains(ObjectIdentifier(running.server)) }
        }
        if !finished { running.task.cancel() }
        _ = try? await running.task.value
    }

    var behaviour: Behaviour {
        get { state.withLock { $0.behaviour } }
        set { state.withLock { $0.behaviour = newValue } }
    }

    /// `ListPodSandbox` and `Version` calls served so far.
    var calls: Int { state.withLock { $0.calls } }

    /// Adds a ready pod sandbox to what the runtime lists.
    func addSandbox(
        id: String, uid: String, name: String, namespace: String, createdAt: Int64 = 1_764_000_000_123_456_789,
        handler: String = "kata", ready: Bool = true
    ) {
        let sandbox = Runtime_V1_PodSandbox.with {
            $0.id = id
            $0.metadata = .with {
                $0.uid = uid
                $0.name = name
                $0.namespace = namespace
                $0.attempt = 1
            }
            $0.state = ready ? .sandboxReady : .sandboxNotready
            $0.createdAt = createdAt
            $0.runtimeHandler = handler
        }
        state.withLock { $0.sandboxes.append(sandbox) }
    }

    /// How `ListContainerStats` answers, whatever the other calls do.
    var statsBehaviour: Behaviour {
        get { state.withLock { $0.statsBehaviour } }
        set { state.withLock { $0.statsBehaviour = newValue } }
    }

    /// `ListContainerStats` calls served so far.
    var statsCalls: Int { state.withLock { $0.statsCalls } }

    /// Adds (or replaces) a container and its usage; nil values are left unset, as a runtime that does not
    /// know them sends them.
    func setContainer(
        id: String, sandboxID: String, name: String, image: String, userSpecifiedImage: String = "",
        createdAt: Int64 = 1_764_000_100_250_000_000, running: Bool = true, cpuNanoseconds: UInt64? = nil,
        workingSet: UInt64? = nil, usage: UInt64? = nil, rss: UInt64? = nil, pageFaults: UInt64? = nil,
        majorPageFaults: UInt64? = nil, swap: UInt64? = nil, writableLayer: UInt64? = nil
    ) {
        let container = Runtime_V1_Container.with {
            $0.id = id
            $0.podSandboxID = sandboxID
            $0.metadata = .with { $0.name = name }
            $0.image = .with {
                $0.image = image
                $0.userSpecifiedImage = userSpecifiedImage
            }
            $0.imageRef = "sha256:0123456789abcdef"
            $0.state = running ? .containerRunning : .containerExited
            $0.createdAt = createdAt
            $0.labels = ["io.kubernetes.container.name": name]
        }
        func wrap(_ value: UInt64?) -> Runtime_V1_UInt64Value? { value.map { v in .with { $0.value = v } } }
        let stats = Runtime_V1_ContainerStats.with { stats in
            stats.attributes = .with {
                $0.id = id
                $0.metadata = .with { $0.name = name }
            }
            stats.cpu = .with { cpu in
                cpu.timestamp = 1_764_000_200_000_000_000
                if let value = wrap(cpuNanoseconds) { cpu.usageCoreNanoSeconds = value }
            }
            stats.memory = .with { memory in
                memory.timestamp = 1_764_000_200_000_000_000
                if let value = wrap(workingSet) { memory.workingSetBytes = value }
                if let value = wrap(usage) { memory.usageBytes = value }
                if let value = wrap(rss) { memory.rssBytes = value }
                if let value = wrap(pageFaults) { memory.pageFaults = value }
                if let value = wrap(majorPageFaults) { memory.majorPageFaults = value }
            }
            if let value = wrap(swap) { stats.swap = .with { $0.swapUsageBytes = value } }
            if let value = wrap(writableLayer) {
                stats.writableLayer = .with {
                    $0.fsID = .with { $0.mountpoint = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs" }
                    $0.usedBytes = value
                }
            }
        }
        state.withLock { state in
            state.containers.removeAll { $0.id == id }
            state.containers.append(container)
            state.stats[id] = stats
        }
    }

    /// Removes a container (and its usage).
    func removeContainer(id: String) {
        state.withLock { state in
            state.containers.removeAll { $0.id == id }
            state.stats[id] = nil
        }
    }

    private func respond<Response: Sendable>(_ make: @Sendable () -> Response) async throws -> Response {
        let behaviour = state.withLock { state in
            state.calls += 1
            return state.behaviour
        }
        switch behaviour {
        case .answer: return make()
        case .fail(let code): throw RPCError(code: code, message: "test runtime says no")
        case .hang:
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
    }

    private struct Service: Runtime_V1_RuntimeService.SimpleServiceProtocol {
        let owner: TestCRIServer

        func version(request: Runtime_V1_VersionRequest, context: ServerContext) async throws
            -> Runtime_V1_VersionResponse
        {
            try await owner.respond {
                .with {
                    $0.version = "0.1.0"
                    $0.runtimeName = "test-runtime"
                    $0.runtimeVersion = "1.2.3"
                    $0.runtimeApiVersion = "v1"
                }
            }
        }

        func listPodSandbox(request: Runtime_V1_ListPodSandboxRequest, context: ServerContext) async throws
            -> Runtime_V1_ListPodSandboxResponse
        {
            let items = owner.state.withLock { $0.sandboxes }
            return try await owner.respond { .with { $0.items = items } }
        }

        func listContainers(request: Runtime_V1_ListContainersRequest, context: ServerContext) async throws
            -> Runtime_V1_ListContainersResponse
        {
            let filter = request.filter
            let containers = owner.state.withLock { $0.containers }.filter { container in
                (!filter.hasState || container.state == filter.state.state)
                    && (filter.podSandboxID.isEmpty || container.podSandboxID == filter.podSandboxID)
                    && (filter.id.isEmpty || container.id == filter.id)
            }
            return try await owner.respond { .with { $0.containers = containers } }
        }

        func listContainerStats(request: Runtime_V1_ListContainerStatsRequest, context: ServerContext) async throws
            -> Runtime_V1_ListContainerStatsResponse
        {
            let (stats, behaviour) = owner.state.withLock { state in
                state.statsCalls += 1
                return (state.stats.values.sorted { $0.attributes.id < $1.attributes.id }, state.statsBehaviour)
            }
            if case .fail(let code) = behaviour { throw RPCError(code: code, message: "test runtime has no stats") }
            return try await owner.respond { .with { $0.stats = stats } }
        }
    }
}
