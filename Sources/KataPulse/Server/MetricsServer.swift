import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The HTTP/1.1 server of the API: keep-alive, an idle timeout, a request header limit, GET and HEAD.
public struct MetricsServer: Service {
    /// How the server is set up.
    public struct Configuration: Sendable {
        public var address: ListenAddress
        public var idleTimeout: TimeAmount
        /// Largest request head (request line and headers) accepted, in bytes.
        public var maxRequestHeadSize: Int

        public init(address: ListenAddress, idleTimeout: TimeAmount = .seconds(60), maxRequestHeadSize: Int = 16_384) {
            self.address = address
            self.idleTimeout = idleTimeout
            self.maxRequestHeadSize = maxRequestHeadSize
        }
    }

    private typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    let configuration: Configuration
    let router: Router
    let group: any EventLoopGroup
    let logger: Logger
    /// Called once the listener is bound, with the address actually bound (the port when 0 was asked).
    let onListening: @Sendable (ListenAddress) -> Void

    public init(
        configuration: Configuration, router: Router, group: any EventLoopGroup, logger: Logger,
        onListening: @escaping @Sendable (ListenAddress) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.router = router
        self.group = group
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let idleTimeout = configuration.idleTimeout
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Connection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                return try Connection(wrappingChannelSynchronously: channel)
            }
        }
        let server: NIOAsyncChannel<Connection, Never>
        do {
            switch configuration.address {
            case .tcp(let host, let port):
                server = try await bootstrap.bind(host: host, port: port, childChannelInitializer: initializer)
            case .unix(let path):
                server = try await bootstrap.bind(
                    unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
            }
        } catch {
            throw ListenError(address: configuration.address, underlying: "\(error)")
        }
        let bound: ListenAddress =
            switch (configuration.address, server.channel.localAddress?.port) {
            case (.tcp(let host, _), .some(let port)): .tcp(host: host, port: port)
            default: configuration.address
            }
        logger.info("serving HTTP", metadata: ["address": "\(bound)"])
        onListening(bound)
        try await serve(server)
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
                for try await part in inbound.cancelOnGracefulShutdown() {
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
        let response: HTTPResponse
        if headSize > configuration.maxRequestHeadSize {
            response = .text(431, "request head larger than \(configuration.maxRequestHeadSize) bytes\n")
            keepAlive = false
        } else {
            let request = HTTPRequest(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) })
            response = await router.respond(to: request)
        }
        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "Content-Length", value: String(response.bodyLength))
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: response.status)
        try await outbound.write(.head(HTTPResponseHead(version: head.version, status: status, headers: headers)))
        if head.method != .HEAD {
            for part in response.body where part.readableBytes > 0 {
                try await outbound.write(.body(.byteBuffer(part)))
            }
        }
        try await outbound.write(.end(nil))
        return keepAlive
    }
}

/// Closes a connection that has been idle for the read timeout.
private final class IdleConnectionCloser: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// The server could not listen on its address.
public struct ListenError: Error, Sendable, CustomStringConvertible {
    public var address: ListenAddress
    public var underlying: String

    public var description: String { "cannot listen on \(address): \(underlying)" }
}
