import NIOCore
import NIOHTTP1
import NIOPosix

/// A complete HTTP response, as read by ``HTTPExchange``.
public struct HTTPExchangeResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// The first value of a header, matched case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// Why an HTTP GET failed.
public enum HTTPExchangeError: Error, Sendable, Equatable, CustomStringConvertible {
    case connect(String)
    case timeout
    case bodyTooLarge(limit: Int)
    case read(String)
    case cancelled

    public var description: String {
        switch self {
        case .connect(let detail): "connect: \(detail)"
        case .timeout: "no complete response within the deadline"
        case .bodyTooLarge(let limit): "body larger than \(limit) bytes"
        case .read(let detail): "read: \(detail)"
        case .cancelled: "cancelled"
        }
    }
}

/// One HTTP/1.1 request over a fresh connection, with a total deadline and a body cap: `GET` to shims, `PUT`
/// to a Pushgateway, `POST` to remote-write receivers (over TLS when `tls` is given: its security and the
/// URL's host, which the server's certificate must match).
///
/// The deadline covers connecting, sending and reading the whole body, so a peer that accepts and never
/// answers, or drips bytes, costs exactly the deadline. Chunked and content-length bodies are both handled
/// by NIO's decoder.
public enum HTTPExchange {
    public static func fetch(
        _ address: SocketAddress,
        path: String,
        host: String,
        headers: [(String, String)] = [],
        method: HTTPMethod = .GET,
        body: [UInt8]? = nil,
        timeout: TimeAmount,
        maxBodySize: Int,
        tls: (security: any ClientConnectionSecurity, host: String)? = nil,
        group: any EventLoopGroup
    ) async throws(HTTPExchangeError) -> HTTPExchangeResponse {
        let loop = group.next()
        let promise = loop.makePromise(of: HTTPExchangeResponse.self)
        let timer = loop.scheduleTask(in: timeout) { promise.fail(HTTPExchangeError.timeout) }
        promise.futureResult.whenComplete { _ in timer.cancel() }

        let connect = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try tls.security.secure(channel.pipeline.syncOperations, host: tls.host) }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        ResponseCollector(promise: promise, maxBodySize: maxBodySize, security: tls?.security))
                }
            }
            .connect(to: address)
        connect.whenComplete { result in
            switch result {
            case .failure(let error):
                promise.fail(HTTPExchangeError.connect(describe(error, tls?.security)))
            case .success(let channel):
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
                head.headers.add(name: "Host", value: host)
                head.headers.add(name: "User-Agent", value: "kata-pulse/\(KataPulseVersion.string)")
                head.headers.add(name: "Connection", value: "close")
                for (name, value) in headers { head.headers.add(name: name, value: value) }
                if let body { head.headers.add(name: "Content-Length", value: String(body.count)) }
                channel.write(HTTPClientRequestPart.head(head), promise: nil)
                if let body, !body.isEmpty {
                    channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
                }
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            }
        }
        do {
            // Cancellation (shutdown) abandons the request at once instead of waiting for its deadline.
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                promise.fail(CancellationError())
            }
        } catch let error as HTTPExchangeError {
            throw error
        } catch is CancellationError {
            throw .cancelled
        } catch {
            throw .read(describe(error))
        }
    }

    /// An error in a few words: a socket's as NIO says it, a TLS one as the TLS stack does.
    static func describe(_ error: any Error, _ security: (any ClientConnectionSecurity)? = nil) -> String {
        if let error = error as? IOError { return error.description }
        return security?.describe(error) ?? String(describing: error)
    }
}

/// Collects one response into memory, failing the promise on a cap breach or an early close.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<HTTPExchangeResponse>
    private let maxBodySize: Int
    private let security: (any ClientConnectionSecurity)?
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    init(
        promise: EventLoopPromise<HTTPExchangeResponse>, maxBodySize: Int, security: (any ClientConnectionSecurity)?
    ) {
        self.promise = promise
        self.maxBodySize = maxBodySize
        self.security = security
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(let buffer):
            guard body.count + buffer.readableBytes <= maxBodySize else {
                promise.fail(HTTPExchangeError.bodyTooLarge(limit: maxBodySize))
                context.close(promise: nil)
                return
            }
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head else {
                promise.fail(HTTPExchangeError.read("response ended without a head"))
                return
            }
            promise.succeed(
                HTTPExchangeResponse(
                    status: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) }, body: body))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(HTTPExchangeError.read("connection closed before the response was complete"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(HTTPExchangeError.read(HTTPExchange.describe(error, security)))
        context.close(promise: nil)
    }
}
