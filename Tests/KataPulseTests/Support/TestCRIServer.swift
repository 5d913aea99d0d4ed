import CRIRuntimeV1
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Synchronization

@testable import KataPulse
@testable import KataPulseCRI

/// A CRI `runtime.v1` runtime in-process, served by grpc-swift-2 on a unix socket: it lists the sandboxes a
/// test gives it and can be told to fail, to never answer, or be stopped and started again on the same path.
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
            stopped: Set<ObjectIdentifier>()
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
    }
}
