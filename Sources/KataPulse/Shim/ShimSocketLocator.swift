#if canImport(Glibc)
    import Glibc
#endif

/// Finds a sandbox's monitor socket under the sandbox roots, in root order.
public struct ShimSocketLocator: Sendable {
    public static let socketName = "shim-monitor.sock"

    /// The roots searched, in order (discovery's roots).
    public let roots: [String]

    public init(roots: [String]) {
        self.roots = roots
    }

    /// The first `<root>/<id>/shim-monitor.sock` that is a socket, if any.
    public func locate(sandboxID: String) -> String? {
        for path in candidates(sandboxID: sandboxID) {
            var info = stat()
            if stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK { return path }
        }
        return nil
    }

    /// Every path looked at, in order: for messages naming where no socket was found.
    public func candidates(sandboxID: String) -> [String] {
        roots.map { Self.socketPath(root: $0, sandboxID: sandboxID) }
    }

    public static func socketPath(root: String, sandboxID: String) -> String {
        "\(root)/\(sandboxID)/\(socketName)"
    }
}
