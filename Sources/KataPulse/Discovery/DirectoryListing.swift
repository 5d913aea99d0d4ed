#if canImport(Glibc)
    import Glibc
#endif

/// One entry of a directory, as `readdir` reports it.
struct DirectoryEntry: Sendable, Equatable {
    var name: String
    /// `DT_DIR`, `DT_REG`, `DT_LNK`, `DT_SOCK`… or `DT_UNKNOWN` on file systems that do not say.
    var type: UInt8
}

/// Reading directories: the one `readdir` loop discovery, the textfile writer and the tests share.
enum DirectoryListing {
    /// The entries of `path` without `.` and `..`, or nil if it cannot be opened.
    static func entries(_ path: String) -> [DirectoryEntry]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var entries: [DirectoryEntry] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { entries.append(DirectoryEntry(name: name, type: entry.pointee.d_type)) }
        }
        return entries
    }
}
