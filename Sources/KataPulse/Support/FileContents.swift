import Glibc

/// Reads small files whole (configuration, certificates), with a size cap so a wrong path (a device, a huge
/// log) fails quickly instead of filling memory.
enum FileContents {
    /// The file's bytes; throws the reason (`strerror`, or too large) when it cannot be read.
    static func read(_ path: String, limit: Int) throws(FileReadError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else { throw FileReadError(path: path, errorNumber: errno) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileReadError(path: path, errorNumber: errno)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[..<count])
            guard bytes.count <= limit else { throw FileReadError(path: path, reason: "larger than \(limit) bytes") }
        }
    }

    /// The file's first `count` bytes (fewer when it is shorter).
    static func prefix(_ path: String, count: Int) throws(FileReadError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else { throw FileReadError(path: path, errorNumber: errno) }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let read = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + filled, count - filled) }
            if read < 0 {
                if errno == EINTR { continue }
                throw FileReadError(path: path, errorNumber: errno)
            }
            if read == 0 { break }
            filled += read
        }
        return Array(bytes[..<filled])
    }
}

/// A file that could not be read, and why.
struct FileReadError: Error, Sendable, CustomStringConvertible {
    var path: String
    var reason: String
    /// The `errno` of the failed call; 0 when the file was read but is too large.
    var errorNumber: Int32 = 0

    init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    init(path: String, errorNumber: Int32) {
        self.init(path: path, reason: String(cString: strerror(errorNumber)))
        self.errorNumber = errorNumber
    }

    var description: String { "cannot read \(path): \(reason)" }
}
