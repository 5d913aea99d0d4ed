#if canImport(Glibc)
    import Glibc
#endif

/// Unix socket paths, and those longer than `sockaddr_un` holds, reached through `/proc/self/fd`.
///
/// A sandbox root plus a 64-character id plus `shim-monitor.sock` easily exceeds the limit. Opening the
/// socket's directory and naming it `/proc/self/fd/N/shim-monitor.sock` keeps the address short.
public enum UnixSocketPath {
    /// The longest path used as is: NIO's `SocketAddress(unixDomainSocketPath:)` takes at most 103 bytes (the
    /// `sun_path` of the smallest platform), though Linux's `sockaddr_un` would hold 107.
    public static let maxLength = 103

    /// Calls `body` with a path of at most ``maxLength`` bytes naming the same socket.
    public static func withShortPath<Result>(
        _ path: String, _ body: (String) async throws -> Result
    ) async throws -> Result {
        guard path.utf8.count > maxLength else { return try await body(path) }
        let slash = path.lastIndex(of: "/") ?? path.startIndex
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        let name = path[path.index(after: slash)...]
        let descriptor = open(directory, pathOnly | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw UnixSocketPathError(path: path, errno: errno)
        }
        defer { close(descriptor) }
        return try await body("/proc/self/fd/\(descriptor)/\(name)")
    }

    /// Linux `O_PATH` (Glibc does not export it to Swift).
    private static let pathOnly: CInt = 0o10000000
}

/// The directory of a long socket path could not be opened.
public struct UnixSocketPathError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var errno: CInt

    public var description: String { "cannot open the directory of \(path): \(String(cString: strerror(errno)))" }
}
