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
    /// The deadline for one request, connect to last byte.
    public var timeout: TimeAmount
    /// The largest body accepted.
    public var maxBodySize: Int
    let group: any EventLoopGroup

    public static let defaultMaxBodySize = 32 * 1024 * 1024

    public init(group: any EventLoopGroup, timeout: TimeAmount, maxBodySize: Int = defaultMaxBodySize) {
        self.group = group
        self.timeout = timeout
        self.maxBodySize = maxBodySize
    }

    /// `GET /metrics`: the raw body, or why not.
    public func metrics(socketPath: String) async throws(ShimError) -> [UInt8] {
        try await get("/metrics", socketPath: socketPath)
    }

    /// `GET /agent-url`: the agent's address as the shim reports it, trimmed.
    public func agentURL(socketPath: String) async throws(ShimError) -> String {
        let body = try await get("/agent-url", socketPath: socketPath, maxBodySize: 64 * 1024)
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        return String(decoding: body.drop(while: isSpace).reversed().drop(while: isSpace).reversed(), as: UTF8.self)
    }

    func get(_ pathInURL: String, socketPath: String, maxBodySize: Int? = nil) async throws(ShimError) -> [UInt8] {
        let limit = maxBodySize ?? self.maxBodySize
        let response: HTTPExchangeResponse
        do {
            response = try await UnixSocketPath.withShortPath(socketPath) { path in
                try await HTTPExchange.fetch(
                    try SocketAddress(unixDomainSocketPath: path), path: pathInURL,
                    host: "shim", timeout: timeout, maxBodySize: limit, group: group)
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

/// Finds a sandbox's monitor socket under the sandbox roots, in root order.
public enum ShimSocketLocator {
    public static let socketName = "shim-monitor.sock"

    /// The first `<root>/<id>/shim-monitor.sock` that is a socket, if any.
    public static func locate(sandboxID: String, roots: [String]) -> String? {
        for root in roots {
            let path = socketPath(root: root, sandboxID: sandboxID)
            var info = stat()
            if stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK { return path }
        }
        return nil
    }

    public static func socketPath(root: String, sandboxID: String) -> String {
        "\(root)/\(sandboxID)/\(socketName)"
    }
}
