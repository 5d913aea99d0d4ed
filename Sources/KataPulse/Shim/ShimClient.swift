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

    func get(_ path: String, socketPath: String, maxBodySize: Int? = nil) async throws(ShimError) -> [UInt8] {
        let limit = maxBodySize ?? self.maxBodySize
        let address: SocketAddress
        // sockaddr_un holds 107 bytes; a long root + id is reached through the directory's /proc/self/fd link.
        var directoryFD: CInt = -1
        defer { if directoryFD >= 0 { close(directoryFD) } }
        do {
            if socketPath.utf8.count > 100 {
                let directory = String(socketPath[..<(socketPath.lastIndex(of: "/") ?? socketPath.startIndex)])
                let name = socketPath[
                    (socketPath.lastIndex(of: "/").map { socketPath.index(after: $0) } ?? socketPath.startIndex)...]
                directoryFD = open(directory, pathOnly | O_DIRECTORY | O_CLOEXEC)
                guard directoryFD >= 0 else {
                    throw ShimError(reason: .connect, message: "cannot open \(directory): errno \(errno)")
                }
                address = try SocketAddress(unixDomainSocketPath: "/proc/self/fd/\(directoryFD)/\(name)")
            } else {
                address = try SocketAddress(unixDomainSocketPath: socketPath)
            }
        } catch let error as ShimError {
            throw error
        } catch {
            throw ShimError(reason: .connect, message: "\(socketPath): \(error)")
        }
        let response: HTTPGetResponse
        do {
            response = try await HTTPGet.fetch(
                address, path: path, host: "shim", timeout: timeout, maxBodySize: limit, group: group)
        } catch {
            throw ShimError(reason: error.failureReason, message: "GET \(path) on \(socketPath): \(error)")
        }
        guard response.status == 200 else {
            let excerpt = String(decoding: response.body.prefix(200), as: UTF8.self)
            throw ShimError(
                reason: .httpStatus, message: "GET \(path) on \(socketPath): status \(response.status): \(excerpt)")
        }
        return response.body
    }
}

/// Linux `O_PATH` (Glibc does not export it to Swift).
private let pathOnly: CInt = 0o10000000

extension HTTPGetError {
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
