import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The HTTP/1.1 server of the API: keep-alive, GET and HEAD, and limits that keep a hostile client from
/// blinding scrapers or starving collection: open connections, the time to send a request head, its size,
/// requests answered at once, and an idle timeout. TLS, basic authentication and extra headers come from the
/// web configuration in force (``WebAccess``), read anew for each connection and request.
public struct MetricsServer: Service {
    /// Where and how the API is served.
    public struct Configuration: Sendable {
        /// The address to bind when systemd passes no socket.
        public var listenAddress: ListenAddress = .tcp(host: "127.0.0.1", port: 8090)
        /// Sockets systemd passed (socket activation); when present, ``listenAddress`` is not bound.
        public var passedListeners: [PassedListener] = []
        /// A connection with no request for this long is closed.
        public var idleTimeout: Duration = .seconds(60)
        /// Largest request head (request line and headers) accepted, in bytes.
        public var maxRequestHeadSize = 16_384
        /// Most open connections; past it the longest idle one is closed to make room.
        public var maxConnections = 512
        /// Longest time to receive a whole request head, from the accept or the request's first byte.
        public var readHeaderTimeout: Duration = .seconds(10)
        /// Most requests answered at once; more are answered 503.
        public var maxRequests = 40

        public init() {}

        /// What is listened on.
        var listeners: [Listener] {
            passedListeners.isEmpty ? [.address(listenAddress)] : passedListeners.map { .passed($0) }
        }
    }

    /// One listening socket: an address to bind, or a descriptor passed by systemd.
    public enum Listener: Sendable, Equatable {
        case address(ListenAddress)
        case passed(PassedListener)
    }

    private typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    let configuration: Configuration
    let router: Router
    let limiter: ConnectionLimiter
    let access: WebAccess
    let group: any EventLoopGroup
    let logger: Logger
    /// Called once every listener is bound, with the addresses actually bound (the port when 0 was asked).
    let onListening: @Sendable ([ListenAddress]) -> Void

    init(
        configuration: Configuration, router: Router, limiter: ConnectionLimiter, access: WebAccess,
        group: any EventLoopGroup, logger: Logger, onListening: @escaping @Sendable ([ListenAddress]) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.router = router
        self.limiter = limiter
        self.access = access
        self.group = group
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let idleTimeout = TimeAmount(configuration.idleTimeout)
        let headTimeout = TimeAmount(configuration.readHeaderTimeout)
        let limiter = limiter
        let access = access
        let bootstrap = ServerBootstrap(group: group)
            // A burst of connections waits in the kernel's accept queue instead of having its SYNs dropped.
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Connection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                // A refused connection is closed, not failed: an initializer error would reach the server
                // channel's pipeline and end the stream of accepted connections.
                if !limiter.admit(channel) { channel.close(promise: nil) }
                let tracker = ConnectionTracker(limiter: limiter, headTimeout: headTimeout)
                let pipeline = channel.pipeline.syncOperations
                // Before TLS, so that the head deadline also bounds a handshake that never completes.
                try pipeline.addHandler(tracker.rawBytes)
                try access.policy.security?.secure(pipeline)
                try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                try pipeline.addHandler(tracker.requests)
                try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                try pipeline.addHandler(IdleConnectionCloser(limiter: limiter))
                return try Connection(wrappingChannelSynchronously: channel)
            }
        }
        var servers: [NIOAsyncChannel<Connection, Never>] = []
        var bound: [ListenAddress] = []
        do {
            for listener in configuration.listeners {
                let server = try await bind(listener, bootstrap: bootstrap, initializer: initializer)
                servers.append(server)
                bound.append(Self.describe(server.channel.localAddress) ?? Self.describe(listener))
            }
        } catch {
            for server in servers { try? await server.channel.close() }
            throw error
        }
        let scheme = access.policy.security == nil ? "HTTP" : "HTTPS"
        for address in bound { logger.info("serving \(scheme)", metadata: ["address": "\(address)"]) }
        onListening(bound)
        try await withThrowingDiscardingTaskGroup { group in
            for server in servers { group.addTask { try await serve(server) } }
        }
    }

    private func bind(
        _ listener: Listener, bootstrap: ServerBootstrap,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Connection>
    ) async throws -> NIOAsyncChannel<Connection, Never> {
        do {
            switch listener {
            case .address(.tcp(let host, let port)):
                return try await bootstrap.bind(host: host, port: port, childChannelInitializer: initializer)
            case .address(.unix(let path)):
                return try await bootstrap.bind(
                    unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
            case .passed(let passed):
                return try await bootstrap.bind(passed.descriptor, childChannelInitializer: initializer)
            }
        } catch {
            throw ListenError(listener: listener, underlying: "\(error)")
        }
    }

    static func describe(_ address: SocketAddress?) -> ListenAddress? {
        switch address {
        case .v4(let v4)?: .tcp(host: v4.host, port: address!.port ?? 0)
        case .v6(let v6)?: .tcp(host: v6.host, port: address!.port ?? 0)
        case .unixDomainSocket?: address!.pathname.map { .unix(path: $0) }
        case nil: nil
        }
    }

    static func describe(_ listener: Listener) -> ListenAddress {
        switch listener {
        case .address(let address): address
        case .passed(let passed): .unix(path: "fd:\(passed.descriptor)(\(passed.name))")
        }
    }

    private func serve(_ server: NIOAsyncChannel<Connection, Never>) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await connection in connections.cancelOnGracefulShutdown() {
                    group.addTask { await handle(connection) }
                }
            }
            group.cancelAll()
        }
    }

    private func handle(_ connection: Connection) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                // On shutdown the connection stops reading: the request being answered is finished, then the
                // stream ends. (Not `cancelOnGracefulShutdown()`, which runs every request part through a merge
                // of two sequences: a quarter of a gzip request's cost on the cooperative threads.)
                try await withGracefulShutdownHandler {
                    for try await part in inbound {
                        switch part {
                        case .head(let requestHead):
                            head = requestHead
                        case .body:
                            continue
                        case .end:
                            guard let requestHead = head else { continue }
                            head = nil
                            let keepAlive = try await respond(to: requestHead, outbound: outbound)
                            if !keepAlive { return }
                        }
                    }
                } onGracefulShutdown: {
                    connection.channel.close(mode: .input, promise: nil)
                }
            }
        } catch {
            logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
    }

    /// Writes the response to one request; returns whether the connection stays open.
    private func respond(
        to head: HTTPRequestHead, outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws -> Bool {
        let headSize =
            head.uri.utf8.count + head.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        var keepAlive = head.isKeepAlive
        let policy = access.policy
        let request = HTTPRequest(
            method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) })
        var response: HTTPResponse
        // The slot is taken once the client is authenticated (a wrong password waits for bcrypt without holding
        // a scraper's slot) and held until the response is written: writing a large body is part of answering.
        var answering = false
        defer { if answering { limiter.endRequest() } }
        if headSize > configuration.maxRequestHeadSize {
            response = .text(431, "request head larger than \(configuration.maxRequestHeadSize) bytes\n")
            keepAlive = false
        } else if let refusal = await authenticate(request, policy: policy) {
            response = refusal
        } else if limiter.beginRequest() {
            answering = true
            response = await router.respond(to: request)
        } else {
            // As client_golang's promhttp answers past its MaxRequestsInFlight.
            response = .text(503, "Limit of concurrent requests reached (\(limiter.maxRequests)), try again later.\n")
        }
        response.headers += policy.headers
        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "Content-Length", value: String(response.bodyLength))
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: response.status)
        var batch: [HTTPServerResponsePart] = [
            .head(HTTPResponseHead(version: head.version, status: status, headers: headers))
        ]
        if head.method != .HEAD {
            // Up to a batch of chunks per write: each write waits for the connection to drain.
            var chunks = ResponseChunks(response.body)
            while let chunk = chunks.next() {
                batch.append(.body(.byteBuffer(chunk)))
                if batch.count == ResponseChunks.chunksPerWrite {
                    try await outbound.write(contentsOf: batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
        }
        batch.append(.end(nil))
        try await outbound.write(contentsOf: batch)
        return keepAlive
    }
}

extension MetricsServer {
    /// The answer to a request that basic authentication refuses; nil lets it through. `/healthz` is exempt:
    /// Kubernetes probes cannot send credentials, and it tells only whether collection makes progress.
    private func authenticate(_ request: HTTPRequest, policy: WebAccess.Policy) async -> HTTPResponse? {
        guard let authenticator = policy.authenticator, request.path != "/healthz" else { return nil }
        switch await authenticator.check(authorization: request.header("Authorization")) {
        case .allowed:
            return nil
        case .denied:
            access.count(.denied)
            return .text(401, "Unauthorized\n", headers: [("WWW-Authenticate", "Basic")])
        case .busy:
            access.count(.busy)
            return .text(
                429, "Too many authentication attempts in progress, try again later.\n", headers: [("Retry-After", "1")]
            )
        }
    }
}

/// A response body's parts regrouped for writing: a snapshot's body is tens of thousands of slices (each
/// sandbox's lines of each family), which the channel would handle one by one. Small parts are copied into
/// chunks of ``chunkSize`` as the connection drains (each write of ``chunksPerWrite`` waits for room), so a
/// slow client holds about a megabyte, never a copy of the body; large parts go out as they are. Chunks stay
/// under malloc's mmap threshold, so their memory is reused warm rather than mapped and faulted in anew.
struct ResponseChunks {
    static let chunkSize = 64 * 1024
    static let chunksPerWrite = 16
    private let parts: [ByteBuffer]
    private var index = 0

    init(_ parts: [ByteBuffer]) {
        self.parts = parts
    }

    mutating func next() -> ByteBuffer? {
        while index < parts.count && parts[index].readableBytes == 0 { index += 1 }
        guard index < parts.count else { return nil }
        // A part between large ones (or last) goes as it is: there is nothing to group it with.
        let isLarge = { (part: ByteBuffer) in part.readableBytes >= Self.chunkSize / 4 }
        if isLarge(parts[index]) || index + 1 == parts.count || isLarge(parts[index + 1]) {
            index += 1
            return parts[index - 1]
        }
        // The group's size first: a buffer of exactly that (a gzip response groups a few hundred bytes, and a
        // 64 KiB buffer is mapped and unmapped on its own, page faults and all, for every request).
        var end = index
        var size = 0
        while end < parts.count, size + parts[end].readableBytes <= Self.chunkSize, !isLarge(parts[end]) {
            size += parts[end].readableBytes
            end += 1
        }
        var chunk = ByteBufferAllocator().buffer(capacity: size)
        while index < end {
            var part = parts[index]
            chunk.writeBuffer(&part)
            index += 1
        }
        return chunk
    }
}

/// Closes a connection that has been idle for the read timeout.
private final class IdleConnectionCloser: ChannelInboundHandler {
    typealias InboundIn = NIOAny
    private let limiter: ConnectionLimiter

    init(limiter: ConnectionLimiter) {
        self.limiter = limiter
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            limiter.closing(context.channel, because: .idleTimeout)
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// The server could not listen on one of its listeners.
public struct ListenError: Error, Sendable, CustomStringConvertible {
    public var listener: MetricsServer.Listener
    public var underlying: String

    public var description: String {
        switch listener {
        case .address(let address): "cannot listen on \(address): \(underlying)"
        case .passed(let passed):
            "cannot serve on passed descriptor \(passed.descriptor) (\(passed.name)): \(underlying)"
        }
    }
}
