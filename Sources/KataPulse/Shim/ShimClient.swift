import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Why a shim could not be read.
public struct ShimError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: ScrapeFailureReason
    public var message: String

    public var description: String { message }
}

/// Talks HTTP/1.1 to a shim's `shim-monitor.sock`.
public struct ShimClient: Sendable {
    /// How shims are read.
    public struct Configuration: Sendable {
        /// The deadline for one request, connect to last byte.
        public var timeout: Duration = .seconds(3)
        /// The largest body accepted.
        public var maxBodySize = 32 * 1024 * 1024

        public init() {}
    }

    let configuration: Configuration
    let group: any EventLoopGroup

    public init(configuration: Configuration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.group = group
    }

    /// `GET /metrics`: the raw body, or why not.
    public func metrics(socketPath: String) async throws(ShimError) -> [UInt8] {
        try await get("/metrics", socketPath: socketPath)
    }

    /// `GET /agent-url`: the agent's address as the shim reports it, trimmed.
    public func agentURL(socketPath: String) async throws(ShimError) -> String {
        let body = try await get("/agent-url", socketPath: socketPath, maxBodySize: 64 * 1024)
        return String(
            decoding: body.drop(while: ASCII.isWhitespace).reversed().drop(while: ASCII.isWhitespace).reversed(),
            as: UTF8.self)
    }

    func get(_ pathInURL: String, socketPath: String, maxBodySize: Int? = nil) async throws(ShimError) -> [UInt8] {
        let limit = maxBodySize ?? configuration.maxBodySize
        let response: HTTPExchangeResponse
        do {
            response = try await UnixSocketPath.withShortPath(socketPath) { path in
                try await HTTPExchange.fetch(
                    try SocketAddress(unixDomainSocketPath: path), path: pathInURL,
                    host: "shim", timeout: TimeAmount(configuration.timeout), maxBodySize: limit, group: group)
            }
        } catch let error as HTTPExchangeError {
            throw ShimError(reason: error.failureReason, message: "GET \(pathInURL) on \(socketPath): \(error)")
        } catch {
            throw ShimError(reason: .connect, message: "GET \(pathInURL) on \(socketPath): \(error)")
        }
        guard response.status == 200 else {
            let excerpt = String(decoding: response.body.prefix(200), as: UTF8.self)
            throw ShimError(
                reason: .httpStatus, message: "GET \(pathInURL) on \(socketPath): status \(response.status): \(excerpt)"
            )
        }
        return response.body
    }
}

extension HTTPExchangeError {
    var failureReason: ScrapeFailureReason {
        switch self {
        case .connect: .connect
        case .timeout: .timeout
        case .bodyTooLarge: .bodyTooLarge
        case .read, .cancelled: .read
        }
    }
}
