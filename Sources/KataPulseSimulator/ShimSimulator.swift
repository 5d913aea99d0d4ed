import KataPulse
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A misbehaviour a simulated shim can be given; each applies to one sandbox per count.
public enum SimulatedFault: String, Sendable, CaseIterable {
    /// Accepts the connection and never answers.
    case hang
    /// Sends the head, then drips one byte every 200 ms, past any sane deadline.
    case slow
    /// Answers 200 with bytes that are not the text format.
    case garbage
    /// Answers 200 with a chunked body larger than 32 MiB.
    case huge
    /// Announces a body and closes the connection half-way through it.
    case reset
    /// Answers 500.
    case status500
    /// Declares a family with another TYPE than every other sandbox does.
    case conflict
    /// Hostile label values (quotes, backslashes, newlines, `"} 1` payloads) and labels named `__x`.
    case inject
    /// 100,000 series.
    case bomb
    /// A series repeated, and a family named as the agent's own (`kata_pulse_sandbox_up`).
    case duplicate
}

/// One simulated sandbox: its id, directory, shim flavor, fault and the seed of its values.
public struct SimulatedSandbox: Sendable, Equatable {
    public var id: String
    public var flavor: ShimFlavor
    public var fault: SimulatedFault?
    public var socketPath: String
    public var seed: UInt64
    /// The VMM of a runtime-rs sandbox (`dragonball`, `qemu`, `firecracker`, …), recorded in its `state.json`;
    /// nil for the Go runtime. As upstream (kata-containers#13708), a runtime-rs shim of a `qemu` or
    /// `firecracker` sandbox aborts when asked for `/metrics`: the sandbox dies.
    public var hypervisor: String?

    public init(
        id: String, flavor: ShimFlavor, fault: SimulatedFault?, socketPath: String, seed: UInt64 = 1,
        hypervisor: String? = nil
    ) {
        self.id = id
        self.flavor = flavor
        self.fault = fault
        self.socketPath = socketPath
        self.seed = seed
        self.hypervisor = hypervisor ?? (flavor == .rust ? "dragonball" : nil)
    }

    /// Whether its shim aborts on `GET /metrics`, as runtime-rs's QEMU and Firecracker shims do.
    public var abortsOnMetrics: Bool { flavor == .rust && ["qemu", "firecracker"].contains(hypervisor ?? "") }

    var directory: String { String(socketPath.dropLast(ShimSocketLocator.socketName.count + 1)) }

    /// What its guest does: the rates and levels its bodies are built from.
    public var groundTruth: SimulatedGroundTruth {
        SimulatedShimBody(sandboxID: id, flavor: flavor, seed: seed).groundTruth
    }
}

/// Simulated Kata shims: one directory and `shim-monitor.sock` per sandbox under a root, each serving
/// realistic `/metrics` and `/agent-url` over HTTP/1.1, some with faults. It stands in for real Kata VMs,
/// which cannot run on a build machine.
public final class ShimSimulator: Sendable {
    /// How the simulated node is set up.
    public struct Configuration: Sendable {
        public var root: String
        public var sandboxes: Int
        public var ids: [String]
        /// The shim flavors, taken in turn: `[.go]`, `[.rust]`, or `[.go, .rust]` for a mixed node.
        public var flavors: [ShimFlavor]
        public var faults: [(SimulatedFault, Int)]
        public var seed: UInt64
        /// The VMMs of runtime-rs sandboxes, taken in turn.
        public var hypervisors: [String]

        public init(
            root: String, sandboxes: Int = 3, ids: [String] = [], flavors: [ShimFlavor] = [.go],
            faults: [(SimulatedFault, Int)] = [], seed: UInt64 = 1, hypervisors: [String] = ["dragonball"]
        ) {
            self.hypervisors = hypervisors.isEmpty ? ["dragonball"] : hypervisors
            self.root = root
            self.sandboxes = sandboxes
            self.ids = ids
            self.flavors = flavors.isEmpty ? [.go] : flavors
            self.faults = faults
            self.seed = seed
        }

        /// Parses `hang:1,slow:2` into faults; nil names the bad item.
        public static func parseFaults(_ text: String) -> Result<[(SimulatedFault, Int)], SimulatorError> {
            var faults: [(SimulatedFault, Int)] = []
            for item in text.split(separator: ",") where !item.isEmpty {
                let parts = item.split(separator: ":", maxSplits: 1)
                guard let fault = SimulatedFault(rawValue: String(parts[0])) else {
                    return .failure(
                        SimulatorError(
                            "unknown fault '\(parts[0])'; known: \(SimulatedFault.allCases.map(\.rawValue).joined(separator: ", "))"
                        ))
                }
                let count = parts.count > 1 ? Int(parts[1]) : 1
                guard let count, count >= 0 else {
                    return .failure(SimulatorError("invalid count in '\(item)'; expected MODE:COUNT"))
                }
                faults.append((fault, count))
            }
            return .success(faults)
        }
    }

    private struct Running: Sendable {
        var sandbox: SimulatedSandbox
        var channel: any Channel
        var createdDirectory: Bool
    }

    private let group: any EventLoopGroup
    private let configuration: Configuration
    private let started = ContinuousClock.now
    private let running = Mutex<[String: Running]>([:])
    private let aborted = Mutex<Set<String>>([])

    public init(configuration: Configuration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.group = group
    }

    /// The sandboxes the configuration asks for: ids, flavors and faults, in order.
    public static func plan(_ configuration: Configuration) -> [SimulatedSandbox] {
        let count = max(configuration.sandboxes, configuration.ids.count)
        var faults: [SimulatedFault] = []
        for (fault, times) in configuration.faults { faults += Array(repeating: fault, count: times) }
        return (0..<max(count, faults.count)).map { index in
            let id =
                index < configuration.ids.count ? configuration.ids[index] : sandboxID(index, seed: configuration.seed)
            let flavors = configuration.flavors.isEmpty ? [ShimFlavor.go] : configuration.flavors
            let flavor = flavors[index % flavors.count]
            let rustIndex = (0..<index).filter { flavors[$0 % flavors.count] == .rust }.count
            return SimulatedSandbox(
                id: id, flavor: flavor, fault: index < faults.count ? faults[index] : nil,
                socketPath: ShimSocketLocator.socketPath(root: configuration.root, sandboxID: id),
                seed: configuration.seed &+ UInt64(index),
                hypervisor: flavor == .rust
                    ? configuration.hypervisors[rustIndex % configuration.hypervisors.count] : nil)
        }
    }

    /// A 64-hex-digit id like containerd's, stable for a seed and index.
    static func sandboxID(_ index: Int, seed: UInt64) -> String {
        var generator = SplitMix64(state: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        var hex = ""
        for _ in 0..<4 {
            let part = String(generator.next(), radix: 16)
            hex += String(repeating: "0", count: 16 - part.count) + part
        }
        return hex
    }

    /// Creates every planned sandbox and starts serving; returns them.
    @discardableResult
    public func start() async throws -> [SimulatedSandbox] {
        try makeDirectory(configuration.root)
        var sandboxes: [SimulatedSandbox] = []
        for sandbox in Self.plan(configuration) {
            try await add(sandbox)
            sandboxes.append(sandbox)
        }
        return sandboxes
    }

    /// Starts one more simulated sandbox (tests use this to make sandboxes appear). A runtime-rs sandbox's
    /// `state.json` is written too unless `writingState` is false (its VM not started yet: ``writeState(_:)``).
    public func add(_ sandbox: SimulatedSandbox, writingState: Bool = true) async throws {
        let directory = sandbox.directory
        let created = mkdir(directory, 0o755) == 0
        guard created || errno == EEXIST else { throw SimulatorError("mkdir \(directory): errno \(errno)") }
        if writingState && sandbox.hypervisor != nil { try writeState(sandbox) }
        let body = SimulatedShimBody(sandboxID: sandbox.id, flavor: sandbox.flavor, seed: sandbox.seed)
        let id = sandbox.id
        let responder = SimulatedResponder(
            body: body, fault: sandbox.fault, started: started, abortsOnMetrics: sandbox.abortsOnMetrics,
            onAbort: { [self] in self.abort(id) })
        let bootstrap = ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(SimulatedShimHandler(responder: responder))
                }
            }
        // The socket is bound here and handed to NIO already bound: NIO unlinks the paths it binds when the
        // channel closes, and a long path bound as /proc/self/fd/N/… names another directory by then.
        unlink(sandbox.socketPath)
        let descriptor = try await UnixSocketPath.withShortPath(sandbox.socketPath) { path in
            try Self.listeningSocket(at: path)
        }
        let channel = try await bootstrap.withBoundSocket(descriptor).get()
        running.withLock {
            $0[sandbox.id] = Running(sandbox: sandbox, channel: channel, createdDirectory: created)
        }
    }

    /// A listening unix stream socket bound at `path` (at most 107 bytes).
    private static func listeningSocket(at path: String) throws -> CInt {
        let descriptor = socket(AF_UNIX, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SimulatorError("socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(descriptor)
            throw SimulatorError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(descriptor, 128) == 0 else {
            let error = errno
            close(descriptor)
            throw SimulatorError("bind \(path): errno \(error)")
        }
        return descriptor
    }

    /// Writes a runtime-rs sandbox's `state.json`, as runtime-rs does once the VM has started: the
    /// sandbox's persisted state, with the hypervisor type among the VMM's fields.
    public func writeState(_ sandbox: SimulatedSandbox) throws {
        let state = """
            {"sandbox_cgroup_path":"/kubepods/besteffort/pod\(sandbox.id.prefix(8))/kata_\(sandbox.id)",\
            "config":{"sandbox_id":"\(sandbox.id)","hostname":"","dns":[],"network_env":{"netns":null,\
            "network_created":false},"annotations":{},"hypervisor_name":"\(sandbox.hypervisor ?? "")"},\
            "hypervisor":{"hypervisor_type":"\(sandbox.hypervisor ?? "")","pid":\(4000 + sandbox.seed % 1000),\
            "uuid":"","id":"\(sandbox.id)","vm_path":"/run/kata/\(sandbox.id)","jailed":false,"jailer_root":"",\
            "netns":null,"config":{"path":"","ctlpath":"","jailer_path":"","valid_hypervisor_paths":[]},\
            "cached_block_devices":[],"capabilities":{"flags":7}},\
            "resource":{"share_fs":{"mounts":{}},"cgroup_state":null}}

            """
        let path = sandbox.directory + "/state.json"
        let temporary = path + ".tmp"
        guard let file = fopen(temporary, "w") else {
            throw SimulatorError("cannot write \(temporary): errno \(errno)")
        }
        fputs(state, file)
        fclose(file)
        guard rename(temporary, path) == 0 else { throw SimulatorError("cannot rename \(temporary): errno \(errno)") }
    }

    /// What an aborting shim does: its process is gone, so its socket refuses connections from now on.
    private func abort(_ id: String) {
        let channel = running.withLock { running -> (any Channel)? in
            aborted.withLock { _ = $0.insert(id) }
            return running[id]?.channel
        }
        channel?.close(promise: nil)
    }

    /// Sandboxes whose shim aborted because it was asked for `/metrics` (see ``SimulatedSandbox/abortsOnMetrics``).
    public var abortedSandboxes: Set<String> { aborted.withLock { $0 } }

    /// Stops one sandbox's shim and removes its socket, its `state.json` and (unless told not to) its directory.
    public func remove(_ id: String, removeDirectory: Bool = true) async {
        guard let entry = running.withLock({ $0.removeValue(forKey: id) }) else { return }
        try? await entry.channel.close()
        unlink(entry.sandbox.socketPath)
        unlink(entry.sandbox.directory + "/state.json")
        if removeDirectory { rmdir(entry.sandbox.directory) }
    }

    /// Stops every shim and removes the directories it created.
    public func stop() async {
        for id in running.withLock({ Array($0.keys) }) { await remove(id) }
    }

    /// The sandboxes being served now.
    public var sandboxes: [SimulatedSandbox] {
        running.withLock { $0.values.map { $0.sandbox } }.sorted { $0.id < $1.id }
    }

    private func makeDirectory(_ path: String) throws {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw SimulatorError("mkdir \(prefix): errno \(errno)")
            }
        }
    }
}

/// A simulator set-up error.
public struct SimulatorError: Error, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// What one simulated shim answers; shared by its connections.
struct SimulatedResponder: Sendable {
    let body: SimulatedShimBody
    let fault: SimulatedFault?
    let started: ContinuousClock.Instant
    /// Fixed bodies built once, not on every request on the event loop (a bomb is 100,000 lines).
    private let fixedBody: [UInt8]?
    /// The chunk a `huge` shim repeats past the body cap.
    let hugeChunk: [UInt8]
    /// A runtime-rs QEMU/Firecracker shim: `/metrics` kills it (`onAbort`).
    let abortsOnMetrics: Bool
    let onAbort: @Sendable () -> Void

    init(
        body: SimulatedShimBody, fault: SimulatedFault?, started: ContinuousClock.Instant,
        abortsOnMetrics: Bool = false,
        onAbort: @escaping @Sendable () -> Void = {}
    ) {
        self.abortsOnMetrics = abortsOnMetrics
        self.onAbort = onAbort
        self.body = body
        self.fault = fault
        self.started = started
        self.fixedBody =
            switch fault {
            case .bomb: SimulatedShimBody.bombBody(series: 100_000)
            case .garbage: SimulatedShimBody.garbageBody()
            default: nil
            }
        var chunk: [UInt8] = []
        if fault == .huge {
            for index in 0..<16_384 { chunk += Array("kata_guest_huge{n=\"\(index)\"} 1\n".utf8) }
        }
        self.hugeChunk = chunk
    }

    var elapsed: Double {
        (ContinuousClock.now - started).seconds + 10
    }

    func metricsBody() -> [UInt8] {
        if let fixedBody { return fixedBody }
        return switch fault {
        case .conflict: body.conflictBody(elapsed: elapsed)
        case .inject: body.injectBody(elapsed: elapsed)
        case .duplicate: body.duplicateBody(elapsed: elapsed)
        default: body.render(elapsed: elapsed)
        }
    }
}

/// Serves one connection to a simulated shim, misbehaving as its fault says.
private final class SimulatedShimHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: SimulatedResponder
    private var uri = ""

    init(responder: SimulatedResponder) {
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            uri = head.uri
        case .body:
            break
        case .end:
            respond(context: context)
        }
    }

    private func respond(context: ChannelHandlerContext) {
        let path = uri.split(separator: "?").first.map(String.init) ?? uri
        switch path {
        case "/metrics":
            respondMetrics(context: context)
        case "/agent-url":
            if responder.fault == .hang { return }
            write(context, status: .ok, body: Array(responder.body.agentURL.utf8), chunked: false)
        default:
            write(context, status: .notFound, body: Array("404 page not found\n".utf8), chunked: false)
        }
    }

    private func respondMetrics(context: ChannelHandlerContext) {
        if responder.abortsOnMetrics {
            // `todo!()` in get_hypervisor_metrics panics; the panic hook aborts the shim process.
            context.close(promise: nil)
            responder.onAbort()
            return
        }
        switch responder.fault {
        case .hang:
            return
        case .status500:
            write(context, status: .internalServerError, body: Array("internal error\n".utf8), chunked: false)
        case .slow:
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "1000000")
            context.writeAndFlush(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil
            )
            drip(context: context, remaining: 1_000_000)
        case .reset:
            let body = responder.metricsBody()
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: String(body.count))
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil
            )
            let half = context.channel.allocator.buffer(bytes: body[0..<(body.count / 2)])
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(half)))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case .huge:
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok))), promise: nil)
            let chunk = context.channel.allocator.buffer(bytes: responder.hugeChunk)
            var written = 0
            while written <= 34 * 1024 * 1024 {
                context.write(wrapOutboundOut(.body(.byteBuffer(chunk))), promise: nil)
                written += chunk.readableBytes
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        default:
            // Go's net/http sends large bodies chunked; hyper (runtime-rs) sends a Content-Length.
            write(context, status: .ok, body: responder.metricsBody(), chunked: responder.body.flavor == .go)
        }
    }

    private func drip(context: ChannelHandlerContext, remaining: Int) {
        guard remaining > 0, context.channel.isActive else { return }
        context.writeAndFlush(
            wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: "#")))), promise: nil)
        context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(200)) { [self] in
            self.drip(context: context, remaining: remaining - 1)
        }
    }

    private func write(_ context: ChannelHandlerContext, status: HTTPResponseStatus, body: [UInt8], chunked: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        if !chunked { headers.add(name: "Content-Length", value: String(body.count)) }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
