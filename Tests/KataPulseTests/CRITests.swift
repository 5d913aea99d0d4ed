import GRPCCore
import Synchronization
import Testing

@testable import KataPulse
@testable import KataPulseCRI

#if canImport(Glibc)
    import Glibc
#endif

/// The CRI client and the metadata resolver against a real grpc-swift-2 CRI server on a unix socket.
@Suite struct CRITests {
    /// Deadlines are long unless a test is about them: the whole suite shares two cores, and a starved
    /// call must not read as a timeout.
    private func client(_ path: String, timeout: Duration = .seconds(20)) throws -> CRIClient {
        try CRIClient(
            configuration: .init(socketPath: path, timeout: timeout, maxReconnectBackoff: .milliseconds(200)),
            group: testGroup)
    }

    /// Runs `body` with the client's connections maintained, then shuts them down.
    private func withRunning<T: Sendable>(_ client: CRIClient, _ body: () async throws -> T) async throws -> T {
        let connections = Task { try await client.run() }
        defer {
            client.shutdown()
            connections.cancel()
        }
        return try await body()
    }

    @Test func listsPodSandboxesWithTheirMetadata() async throws {
        let tmp = TemporaryDirectory()
        let server = TestCRIServer(socketPath: "\(tmp.path)/cri.sock")
        server.addSandbox(id: "aaa111", uid: "uid-1", name: "web-0", namespace: "team-a")
        server.addSandbox(
            id: "bbb222", uid: "uid-2", name: "db-0", namespace: "team-b", createdAt: 0, handler: "runc", ready: false)
        try await server.start()
        defer { Task { await server.stop() } }
        let client = try client(server.socketPath)
        let (version, sandboxes) = try await withRunning(client) {
            (try await client.version(), try await client.listPodSandboxes())
        }
        #expect(version == CRIRuntimeVersion(runtimeName: "test-runtime", runtimeVersion: "1.2.3", apiVersion: "v1"))
        #expect(
            sandboxes["aaa111"]
                == PodMetadata(
                    uid: "uid-1", name: "web-0", namespace: "team-a", createdAt: 1_764_000_000.123_456_789,
                    runtimeHandler: "kata", state: .ready))
        #expect(
            sandboxes["bbb222"]
                == PodMetadata(
                    uid: "uid-2", name: "db-0", namespace: "team-b", createdAt: nil, runtimeHandler: "runc",
                    state: .notReady))
        #expect(sandboxes.count == 2)
    }

    @Test func aServerThatNeverAnswersCostsTheDeadline() async throws {
        let tmp = TemporaryDirectory()
        let server = TestCRIServer(socketPath: "\(tmp.path)/cri.sock")
        server.behaviour = .hang
        try await server.start()
        defer { Task { await server.stop() } }
        let client = try client(server.socketPath, timeout: .milliseconds(300))
        let started = ContinuousClock.now
        let error = try await withRunning(client) {
            await #expect(throws: CRIError.self) { try await client.listPodSandboxes() }
        }
        let elapsed = ContinuousClock.now - started
        #expect(error?.code == "DeadlineExceeded")
        #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(5), "took \(elapsed)")
    }

    @Test func aSocketThatAcceptsButNeverSpeaksCostsTheDeadline() async throws {
        let tmp = TemporaryDirectory()
        let path = "\(tmp.path)/silent.sock"
        let listener = try SilentListener(path: path)
        defer { listener.close() }
        let client = try client(path, timeout: .milliseconds(300))
        // The call alone is timed: tearing the client down afterwards is not what the deadline bounds.
        let timed = Mutex<Duration?>(nil)
        let error = try await withRunning(client) {
            let started = ContinuousClock.now
            defer { timed.withLock { $0 = ContinuousClock.now - started } }
            return await #expect(throws: CRIError.self) { try await client.listPodSandboxes() }
        }
        #expect(error?.code == "DeadlineExceeded")
        let elapsed = timed.withLock { $0 } ?? .seconds(60)
        // DeadlineExceeded says the deadline ended it; the bound only says it did not wait on a silent peer
        // (loose: on two loaded cores the timer can fire seconds late).
        #expect(elapsed < .seconds(20), "took \(elapsed)")
    }

    @Test func runtimeErrorsCarryTheirStatusCode() async throws {
        let tmp = TemporaryDirectory()
        let server = TestCRIServer(socketPath: "\(tmp.path)/cri.sock")
        server.behaviour = .fail(.permissionDenied)
        try await server.start()
        defer { Task { await server.stop() } }
        let client = try client(server.socketPath)
        let error = try await withRunning(client) {
            await #expect(throws: CRIError.self) { try await client.listPodSandboxes() }
        }
        #expect(error == CRIError(method: .listPodSandbox, code: "PermissionDenied", message: "test runtime says no"))
    }

    @Test func aRuntimeThatDoesNotExistFailsAtOnce() async throws {
        let tmp = TemporaryDirectory()
        let client = try client("\(tmp.path)/absent.sock")
        let error = try await withRunning(client) {
            await #expect(throws: CRIError.self) { try await client.listPodSandboxes() }
        }
        // Unavailable, not DeadlineExceeded: it did not wait for the runtime to appear.
        #expect(error?.code == "Unavailable")
    }

    @Test func reconnectsAfterTheRuntimeRestarts() async throws {
        let tmp = TemporaryDirectory()
        let server = TestCRIServer(socketPath: "\(tmp.path)/cri.sock")
        server.addSandbox(id: "aaa111", uid: "uid-1", name: "web-0", namespace: "team-a")
        try await server.start()
        let client = try client(server.socketPath)
        try await withRunning(client) {
            #expect(try await client.listPodSandboxes().count == 1)
            await server.stop()
            await #expect(throws: CRIError.self) { try await client.listPodSandboxes() }
            server.addSandbox(id: "bbb222", uid: "uid-2", name: "db-0", namespace: "team-b")
            try await server.start()
            let reconnected = await eventually(timeout: .seconds(30)) {
                (try? await client.listPodSandboxes().count) == 2
            }
            #expect(reconnected, "the client did not reach the restarted runtime")
        }
        await server.stop()
    }

    // MARK: - MetadataResolver

    @Test func sandboxesListedLaterThanDiscoveredAreAskedAgain() async throws {
        let tmp = TemporaryDirectory()
        let server = TestCRIServer(socketPath: "\(tmp.path)/cri.sock")
        server.addSandbox(id: "aaa111", uid: "uid-1", name: "web-0", namespace: "team-a")
        try await server.start()
        let harness = try ResolverHarness(socketPath: server.socketPath)
        harness.discover(["aaa111", "bbb222"], current: ["aaa111", "bbb222"])
        #expect(await eventually(timeout: .seconds(30)) { harness.published["aaa111"]?.name == "web-0" })
        #expect(await eventually(timeout: .seconds(30)) { harness.health.pendingSandboxes == 1 })
        #expect(harness.published["bbb222"] == nil)
        // The runtime reports the second sandbox only now: the resolver finds it well before a resync (30 s).
        server.addSandbox(id: "bbb222", uid: "uid-2", name: "db-0", namespace: "team-b")
        #expect(await eventually(timeout: .seconds(20)) { harness.published["bbb222"]?.name == "db-0" })
        #expect(harness.health.pendingSandboxes == 0)
        #expect(harness.health.reachability == .reachable)
        // Removed from disk: gone from what the resolver publishes.
        harness.discovery.yield(DiscoveryChange(added: [], removed: ["aaa111"], current: ["bbb222"]))
        #expect(await eventually(timeout: .seconds(30)) { harness.published.keys.sorted() == ["bbb222"] })
        await harness.stop()
        await server.stop()
    }

    @Test func neverGivesUpOnAnAbsentRuntime() async throws {
        let tmp = TemporaryDirectory()
        let server = TestCRIServer(socketPath: "\(tmp.path)/cri.sock")
        server.addSandbox(id: "aaa111", uid: "uid-1", name: "web-0", namespace: "team-a")
        // Backoff capped at 1 s: the runtime started later is found within about a second.
        let harness = try ResolverHarness(socketPath: server.socketPath, resync: .seconds(1))
        harness.discover(["aaa111"], current: ["aaa111"])
        #expect(
            await eventually(timeout: .seconds(30)) {
                if case .unreachable = harness.health.reachability { true } else { false }
            })
        #expect(harness.health.problem == "no CRI runtime at \(server.socketPath) (Unavailable)")
        #expect(harness.health.pendingSandboxes == 1)
        try await server.start()
        #expect(await eventually(timeout: .seconds(30)) { harness.published["aaa111"]?.uid == "uid-1" })
        #expect(harness.health.reachability == .reachable)
        #expect(harness.health.problem == nil)
        let families = harness.health.families
        let errors = families.first { $0.name == "kata_pulse_cri_call_errors_total" }?.samples ?? []
        #expect(errors.contains { $0.label("code") == "Unavailable" && $0.value >= 1 })
        await harness.stop()
        await server.stop()
    }

    @Test func aHangingRuntimeDoesNotDelayDiscoveryOrUpdates() async throws {
        let tmp = TemporaryDirectory()
        let server = TestCRIServer(socketPath: "\(tmp.path)/cri.sock")
        server.addSandbox(id: "aaa111", uid: "uid-1", name: "web-0", namespace: "team-a")
        try await server.start()
        let harness = try ResolverHarness(socketPath: server.socketPath, resync: .seconds(1), timeout: .seconds(1))
        harness.discover(["aaa111"], current: ["aaa111"])
        #expect(await eventually(timeout: .seconds(30)) { harness.published["aaa111"] != nil })
        // The runtime wedges: calls time out, metadata already known stays published.
        server.behaviour = .hang
        #expect(
            await eventually(timeout: .seconds(30)) {
                if case .unreachable(let error) = harness.health.reachability {
                    error.code == "DeadlineExceeded"
                } else {
                    false
                }
            })
        #expect(harness.published["aaa111"]?.name == "web-0")
        server.behaviour = .answer
        #expect(await eventually(timeout: .seconds(30)) { harness.health.reachability == .reachable })
        await harness.stop()
        await server.stop()
    }
}

/// A resolver fed by a hand-driven discovery stream, recording what it publishes.
final class ResolverHarness: Sendable {
    let resolver: MetadataResolver
    let health: CRIHealth
    let discovery: AsyncStream<DiscoveryChange>.Continuation
    private let latest = Latest()
    private let task: Mutex<Task<Void, any Error>?> = Mutex(nil)

    init(
        socketPath: String, resync: Duration = .seconds(30), initialRetry: Duration = .milliseconds(100),
        timeout: Duration = .seconds(20)
    ) throws {
        let (changes, continuation) = AsyncStream.makeStream(of: DiscoveryChange.self)
        discovery = continuation
        let health = CRIHealth(endpoint: socketPath)
        self.health = health
        let latest = latest
        var configuration = MetadataResolver.Configuration()
        configuration.resyncInterval = resync
        configuration.initialRetry = initialRetry
        resolver = MetadataResolver(
            configuration: configuration,
            client: try CRIClient(
                configuration: .init(
                    socketPath: socketPath, timeout: timeout, maxReconnectBackoff: .milliseconds(200)),
                group: testGroup),
            changes: changes, health: health, logger: testLogger,
            onUpdate: { update in latest.value.withLock { $0 = update } })
        let resolver = resolver
        task.withLock { $0 = Task { try await resolver.run() } }
    }

    var published: [String: PodMetadata] { latest.value.withLock { $0 } }

    func discover(_ ids: [String], current: [String]) {
        discovery.yield(DiscoveryChange(added: ids, removed: [], current: current.sorted()))
    }

    func stop() async {
        let task = task.withLock { $0 }
        task?.cancel()
        _ = try? await task?.value
    }

    private final class Latest: Sendable {
        let value = Mutex<[String: PodMetadata]>([:])
    }
}

/// A unix socket that accepts connections into its backlog and never reads or writes.
private final class SilentListener: Sendable {
    let descriptor: CInt

    init(path: String) throws {
        descriptor = socket(AF_UNIX, CInt(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else { throw TestFailure("cannot listen on \(path)") }
    }

    func close() { _ = Glibc.close(descriptor) }
}
