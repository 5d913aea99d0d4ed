import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@testable import KataPulse
@testable import KataPulseCRI
@testable import KataPulseSimulator

#if canImport(Glibc)
    import Glibc
#endif

/// A directory under /tmp, removed (recursively) when the test process exits.
///
/// Not in `deinit`: Swift may end an object's lifetime right after its last use, which would pull the
/// sandbox root out from under a running agent in the middle of a test.
final class TemporaryDirectory: Sendable {
    let path: String

    private static let created: Mutex<[String]> = {
        atexit {
            for path in TemporaryDirectory.created.withLock({ $0 }) { TemporaryDirectory.removeTree(path) }
        }
        return Mutex([])
    }()

    init() {
        // Short paths: unix socket paths are limited to 103 bytes.
        var template = Array("/tmp/kp-XXXXXX".utf8CString)
        path = String(cString: mkdtemp(&template)!)
        TemporaryDirectory.created.withLock { $0.append(path) }
    }

    func subdirectory(_ name: String, create: Bool = true) -> String {
        let child = "\(path)/\(name)"
        if create { mkdir(child, 0o755) }
        return child
    }

    static func removeTree(_ path: String) {
        if let entries = DirectoryEntries.entries(path) {
            for entry in entries { removeTree("\(path)/\(entry)") }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

/// Directory listings for assertions (files included, unlike discovery).
enum DirectoryEntries {
    /// All entries of a directory (files too), or nil when it is not a readable directory.
    static func entries(_ path: String) -> [String]? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return nil }
        return DirectoryListing.entries(path)?.map(\.name)
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(
    timeout: Duration = .seconds(10), interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}

let testLogger: Logger = {
    var logger = Logger(label: "kata-pulse-tests") { _ in SwiftLogNoOpLogHandler() }
    logger.logLevel = .critical
    return logger
}()

/// One event loop group for the agents and clients of all tests (threads are expensive on 2 cores).
let testGroup: MultiThreadedEventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)

/// The simulated shims' own loops: a shim busy building a 100,000-series body must not hold up an agent's
/// timers, as it could not on a real host, where shims are other processes.
let simulatorGroup: MultiThreadedEventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)

/// An agent running in-process on an ephemeral loopback port, stopped by `stop()`.
final class RunningAgent: Sendable {
    let agent: Agent
    let port: Int
    private let task: Task<Void, any Error>

    private init(agent: Agent, port: Int, task: Task<Void, any Error>) {
        self.agent = agent
        self.port = port
        self.task = task
    }

    /// An agent on `roots` with short rounds and deadlines; CRI only when `cri` is given.
    static func start(
        roots: [String], cri: CRIClient.Configuration? = nil, access: WebAccess? = nil,
        configure: (inout AgentConfiguration) -> Void = { _ in }
    ) async throws -> RunningAgent {
        var configuration = AgentConfiguration()
        configuration.server.listenAddress = .tcp(host: "127.0.0.1", port: 0)
        configuration.collection.interval = .seconds(2)
        configuration.discovery.roots = roots
        configuration.discovery.rescanInterval = .seconds(5)
        configuration.shim.timeout = .seconds(2)
        configuration.shim.maxBodySize = 4 * 1024 * 1024
        // The event loops are shared by every test's agents and shims: on a loaded machine one can be busy for
        // more than the 1 s a node's agent allows, which would turn /healthz into 503s no test asks for.
        configuration.liveness.loopDeadline = .seconds(30)
        configure(&configuration)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let source = try cri.map { try CRIClient(configuration: $0, group: testGroup) }
        let agent = try Agent(
            configuration: configuration, group: testGroup, logger: testLogger, metadataSource: source, access: access
        ) { addresses in
            if case .tcp(_, let port)? = addresses.first { continuation.yield(port) }
            continuation.finish()
        }
        let task = Task { try await agent.run(logger: testLogger) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("agent did not start listening") }
        return RunningAgent(agent: agent, port: port, task: task)
    }

    func get(
        _ path: String, headers: [(String, String)] = [], method: HTTPMethod = .GET, timeout: TimeAmount = .seconds(10)
    ) async throws -> HTTPExchangeResponse {
        try await HTTPExchange.fetch(
            try SocketAddress(ipAddress: "127.0.0.1", port: port), path: path, host: "127.0.0.1", headers: headers,
            method: method, timeout: timeout, maxBodySize: 1 << 30, group: testGroup)
    }

    func text(_ path: String, headers: [(String, String)] = []) async throws -> String {
        String(decoding: try await get(path, headers: headers).body, as: UTF8.self)
    }

    /// Waits until the snapshot satisfies `condition`.
    func waitForSnapshot(timeout: Duration = .seconds(15), _ condition: (Snapshot) -> Bool) async -> Bool {
        await eventually(timeout: timeout) { condition(agent.store.snapshot) }
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Every series in a body: name and sorted labels, for uniqueness checks.
func seriesKeys(_ families: [MetricFamily]) -> [String] {
    families.flatMap { family in
        family.samples.map { sample in
            sample.labels.sorted { $0.name < $1.name }.reduce(sample.name) { key, label in
                key + "|\(label.name)=\(label.value.utf8.count):\(label.value)"
            }
        }
    }
}

/// A simulator serving under `root`, stopped by `stop()`.
func startSimulator(
    root: String, sandboxes: Int, faults: [(SimulatedFault, Int)] = [], flavors: [ShimFlavor] = [.go],
    ids: [String] = []
) async throws -> (ShimSimulator, [SimulatedSandbox]) {
    let simulator = ShimSimulator(
        configuration: .init(root: root, sandboxes: sandboxes, ids: ids, flavors: flavors, faults: faults),
        group: simulatorGroup)
    let started = try await simulator.start()
    return (simulator, started)
}
