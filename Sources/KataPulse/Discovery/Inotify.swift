import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// One inotify event on a watched directory.
struct InotifyEvent: Sendable, Equatable {
    var watch: CInt
    var mask: UInt32
    var name: String

    var isDirectory: Bool { mask & UInt32(IN_ISDIR) != 0 }
    var isOverflow: Bool { mask & UInt32(IN_Q_OVERFLOW) != 0 }
    /// The watched directory itself went away (deleted, moved, or its file system unmounted).
    var watchEnded: Bool { mask & (UInt32(IN_IGNORED) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF)) != 0 }
    var isAppearance: Bool { mask & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0 }
    var isDisappearance: Bool { mask & (UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM)) != 0 }
}

/// An inotify instance whose events arrive as batches on a callback, read by a Dispatch read source.
final class Inotify: @unchecked Sendable {
    // Mutated only on `queue`, or before `start`.
    private let descriptor: CInt
    private let queue = DispatchQueue(label: "kata-pulse.inotify")
    private var source: (any DispatchSourceRead)?

    /// Events on directories' entries and on the directory itself; only directories may be watched.
    static let directoryMask =
        UInt32(IN_CREATE) | UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM) | UInt32(IN_MOVED_TO)
        | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_ONLYDIR)

    init() throws(DiscoveryError) {
        let descriptor = inotify_init1(CInt(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw DiscoveryError("inotify_init1", errno: errno) }
        self.descriptor = descriptor
    }

    /// Starts delivering event batches to `handler` (on a private queue).
    func start(_ handler: @escaping @Sendable ([InotifyEvent]) -> Void) {
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        let descriptor = self.descriptor
        source.setEventHandler {
            let events = Inotify.drain(descriptor)
            if !events.isEmpty { handler(events) }
        }
        source.setCancelHandler { close(descriptor) }
        self.source = source
        source.resume()
    }

    /// Watches a directory; returns the watch descriptor.
    func watch(_ path: String) throws(DiscoveryError) -> CInt {
        let watch = inotify_add_watch(descriptor, path, Inotify.directoryMask)
        guard watch >= 0 else { throw DiscoveryError("watch \(path)", errno: errno) }
        return watch
    }

    func unwatch(_ watch: CInt) {
        _ = inotify_rm_watch(descriptor, watch)
    }

    /// Stops the read source and closes the descriptor.
    func stop() {
        queue.sync {
            if let source {
                source.cancel()
            } else {
                close(descriptor)
            }
            source = nil
        }
    }

    private static func drain(_ descriptor: CInt) -> [InotifyEvent] {
        var events: [InotifyEvent] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            buffer.withUnsafeBytes { raw in
                var offset = 0
                let headerSize = MemoryLayout<inotify_event>.size
                while offset + headerSize <= count {
                    let watch = raw.loadUnaligned(fromByteOffset: offset, as: CInt.self)
                    let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let nameBytes = raw[(offset + headerSize)..<min(offset + headerSize + length, count)]
                    let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
                    events.append(InotifyEvent(watch: watch, mask: mask, name: name))
                    offset += headerSize + length
                }
            }
        }
        return events
    }
}

/// A failed system call during discovery.
public struct DiscoveryError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: CInt

    init(_ operation: String, errno: CInt) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}
