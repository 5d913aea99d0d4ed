#if canImport(Glibc)
    import Glibc
#endif

/// Why a snapshot could not be written; `cause` names the step and the errno, for counting and logging once.
public struct TextfileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var step: String
    public var errno: CInt
    public var path: String

    /// A stable key for "the same failure again": step and error number.
    public var cause: String { "\(step): \(String(cString: strerror(errno)))" }
    public var description: String { "\(step) \(path): \(String(cString: strerror(errno)))" }
}

/// Writes a file the way node_exporter's textfile collector needs it: all or nothing.
///
/// The bytes go to a temporary name in the same directory that does not end in `.prom` (node_exporter also
/// reads hidden `.prom` files), are fsynced, renamed over the target, and the directory is fsynced. On any
/// failure the temporary file is removed and the previous file stays as it was.
public struct TextfileWriter: Sendable {
    public let directory: String
    public let name: String

    public init(directory: String, name: String) {
        self.directory = directory.droppingTrailingSlashes()
        self.name = name
    }

    public var path: String { "\(directory)/\(name)" }

    /// Temporary files are `.<name>.<random>.tmp`: hidden, unique per write, never ending in `.prom`.
    private var temporaryPrefix: String { ".\(name)." }

    /// Writes `bytes` atomically to ``path``.
    public func write(_ bytes: [UInt8]) throws(TextfileError) {
        var temporary = ""
        var descriptor: CInt = -1
        for _ in 0..<8 {
            temporary = "\(directory)/\(temporaryPrefix)\(String(UInt64.random(in: 0...UInt64.max), radix: 36)).tmp"
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
            if descriptor >= 0 || errno != EEXIST { break }
        }
        guard descriptor >= 0 else { throw TextfileError(step: "create", errno: errno, path: temporary) }
        var failure: TextfileError?
        var offset = 0
        bytes.withUnsafeBytes { buffer in
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = TextfileError(step: "write", errno: errno, path: temporary)
                    return
                }
                offset += written
            }
        }
        if failure == nil && fsync(descriptor) != 0 {
            failure = TextfileError(step: "fsync", errno: errno, path: temporary)
        }
        if close(descriptor) != 0 && failure == nil {
            failure = TextfileError(step: "close", errno: errno, path: temporary)
        }
        if failure == nil && rename(temporary, path) != 0 {
            failure = TextfileError(step: "rename", errno: errno, path: path)
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
        // The rename is durable only once the directory is synced; the new file is complete either way.
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Removes the file (`--textfile-remove-on-exit`); a missing file is fine.
    public func remove() {
        unlink(path)
    }

    /// Removes temporary files a crashed writer left behind; returns how many.
    @discardableResult
    public func removeStaleTemporaries() -> Int {
        let stale = (DirectoryListing.entries(directory) ?? []).map(\.name).filter {
            $0.hasPrefix(temporaryPrefix) && $0.hasSuffix(".tmp")
        }
        for entryName in stale { unlink("\(directory)/\(entryName)") }
        return stale.count
    }
}
