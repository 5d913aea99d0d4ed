import CZlib
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One receiver's durable queue: each batch a file, fsynced before it counts as queued and removed only once
/// the receiver accepted it (or it was dropped, counted).
///
/// A batch file is `<sequence>.batch`: a 36-byte header (magic `KPRW`, version, creation time, highest sample
/// timestamp, sample count, payload length, CRC-32 of the header and the payload) and the snappy-compressed
/// `WriteRequest`. Files are written under a temporary name and renamed, so a crash leaves either a whole
/// batch or a temporary file (removed at the next start); a batch whose checksum or length does not hold
/// (a disk error, a hand edit) is removed and counted when it is reached, never sent. Sequences only grow, so
/// after a restart delivery resumes in order. Bounded by total size and by age: the oldest batches go first.
final class RemoteWriteQueue: Sendable {
    /// The queue's bounds and place.
    struct Configuration: Sendable, Equatable {
        /// The queue's own folder (one per receiver).
        var directory: String
        /// Most bytes of batch files; an append that goes past it drops the oldest batches.
        var maxBytes: Int
        /// Batches older than this are dropped instead of sent.
        var maxAge: Duration
    }

    /// A batch read back, ready to send.
    struct Batch: Sendable, Equatable {
        var sequence: UInt64
        /// Unix time in milliseconds it was queued.
        var created: Int64
        /// The newest sample timestamp in it (milliseconds).
        var highestTimestamp: Int64
        var samples: Int
        /// The snappy-compressed `WriteRequest`.
        var payload: [UInt8]
    }

    /// Why batches left the queue unsent.
    enum DropReason: String, Sendable, CaseIterable {
        /// The queue was over its size bound.
        case queueFull = "queue_full"
        /// Older than the age bound.
        case tooOld = "too_old"
        /// A file whose checksum or length does not hold.
        case corrupt
        /// The receiver refused it for good (a 4xx answer other than 429).
        case rejected
        /// The batch could not be written to the queue (disk full, read-only, gone).
        case writeFailed = "write_failed"
    }

    /// Samples and batches dropped, by reason.
    struct Drops: Sendable, Equatable {
        var samples: [DropReason: Int] = [:]
        var batches: [DropReason: Int] = [:]

        mutating func add(_ reason: DropReason, samples count: Int) {
            samples[reason, default: 0] += count
            batches[reason, default: 0] += 1
        }
    }

    /// What the header records of a batch on disk.
    private struct Entry {
        var bytes: Int
        var samples: Int
        var created: Int64
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        /// Sequences in order (oldest first).
        var order: [UInt64] = []
        var head = 0
        var nextSequence: UInt64 = 1
        var bytes = 0
        var drops = Drops()
        var waiters: [CheckedContinuation<Void, Never>] = []

        var pending: ArraySlice<UInt64> { order[head...] }

        mutating func forget(_ sequence: UInt64) -> Entry? {
            guard let entry = entries.removeValue(forKey: sequence) else { return nil }
            bytes -= entry.bytes
            if head < order.count, order[head] == sequence {
                head += 1
                while head < order.count, entries[order[head]] == nil { head += 1 }
            }
            if head > 1024, head * 2 > order.count {
                order.removeFirst(head)
                head = 0
            }
            return entry
        }
    }

    static let headerLength = 36
    private static let magic: [UInt8] = Array("KPRW".utf8)
    private static let version: UInt8 = 1

    let configuration: Configuration
    private let state = Mutex(State())

    /// Opens (creating it when missing) the queue's folder: removes temporary files a crash left, and takes
    /// the batches there in sequence order. Blocking; throws when the folder cannot be made or read.
    init(configuration: Configuration) throws(TextfileError) {
        self.configuration = configuration
        let directory = configuration.directory
        try Self.makeDirectories(directory)
        guard let listing = DirectoryListing.entries(directory) else {
            throw TextfileError(step: "open queue", errno: errno, path: directory)
        }
        var state = State()
        var found: [(UInt64, Entry)] = []
        for entry in listing {
            if entry.name.hasPrefix("."), entry.name.hasSuffix(".tmp") {
                unlink("\(directory)/\(entry.name)")
                continue
            }
            guard let sequence = Self.sequence(ofFile: entry.name) else { continue }
            state.nextSequence = max(state.nextSequence, sequence + 1)
            // An unreadable header is found corrupt when the batch is reached, and counted then.
            let header = (try? FileContents.prefix("\(directory)/\(entry.name)", count: Self.headerLength)) ?? []
            let fields = Self.headerFields(header)
            let size = Self.fileSize("\(directory)/\(entry.name)")
            found.append((sequence, Entry(bytes: size, samples: fields?.samples ?? 0, created: fields?.created ?? 0)))
        }
        found.sort { $0.0 < $1.0 }
        for (sequence, entry) in found {
            state.entries[sequence] = entry
            state.order.append(sequence)
            state.bytes += entry.bytes
        }
        self.state.withLock { $0 = state }
    }

    /// Batches waiting, and their bytes on disk.
    var size: (batches: Int, bytes: Int) {
        state.withLock { ($0.entries.count, $0.bytes) }
    }

    var drops: Drops { state.withLock { $0.drops } }

    /// Writes one batch durably; drops the oldest batches first when it would go past the size bound. Blocking.
    /// A batch that cannot be written is counted as dropped (`write_failed`) and the error thrown.
    func append(payload: [UInt8], samples: Int, highestTimestamp: Int64, now: Int64) throws(TextfileError) {
        let sequence = state.withLock { state in
            defer { state.nextSequence += 1 }
            return state.nextSequence
        }
        let file = Self.encode(
            payload: payload, samples: samples, created: now, highestTimestamp: highestTimestamp)
        let writer = TextfileWriter(directory: configuration.directory, name: Self.fileName(sequence))
        do {
            try writer.write(file)
        } catch {
            state.withLock { $0.drops.add(.writeFailed, samples: samples) }
            throw error
        }
        let evicted = state.withLock { state -> [UInt64] in
            state.entries[sequence] = Entry(bytes: file.count, samples: samples, created: now)
            // Appends may finish out of order (they never do here: one writer per queue); keep the order sorted.
            if let last = state.order.last, last > sequence {
                state.order.insert(sequence, at: state.order[state.head...].firstIndex { $0 > sequence }!)
            } else {
                state.order.append(sequence)
            }
            state.bytes += file.count
            var evicted: [UInt64] = []
            while state.bytes > configuration.maxBytes, let oldest = state.pending.first, oldest != sequence {
                if let entry = state.forget(oldest) { state.drops.add(.queueFull, samples: entry.samples) }
                evicted.append(oldest)
            }
            let waiters = state.waiters
            state.waiters.removeAll()
            for waiter in waiters { waiter.resume() }
            return evicted
        }
        for sequence in evicted { unlink(path(sequence)) }
    }

    /// The oldest batch that is neither corrupt nor too old, read from disk; the others on the way are removed
    /// and counted. Nil when the queue is empty. Blocking.
    func oldest(now: Int64) -> Batch? {
        while let (sequence, entry) = state.withLock({ state in state.pending.first.map { ($0, state.entries[$0]!) } })
        {
            let maxAge = Int64(configuration.maxAge.milliseconds)
            if entry.created != 0, now - entry.created > maxAge {
                drop(sequence, reason: .tooOld)
                continue
            }
            guard let contents = try? FileContents.read(path(sequence), limit: entry.bytes + 1),
                let batch = Self.decode(contents, sequence: sequence)
            else {
                drop(sequence, reason: .corrupt)
                continue
            }
            if now - batch.created > maxAge {
                drop(sequence, reason: .tooOld)
                continue
            }
            return batch
        }
        return nil
    }

    /// Removes a batch the receiver accepted. Blocking.
    func remove(_ sequence: UInt64) {
        _ = state.withLock { $0.forget(sequence) }
        unlink(path(sequence))
        syncDirectory()
    }

    /// Removes a batch that will never be sent, counted under `reason`. Blocking.
    func drop(_ sequence: UInt64, reason: DropReason) {
        state.withLock { state in
            if let entry = state.forget(sequence) { state.drops.add(reason, samples: entry.samples) }
        }
        unlink(path(sequence))
        syncDirectory()
    }

    /// Returns once the queue holds a batch (at once when it does), or when the task is cancelled.
    func waitForBatch() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    if !state.pending.isEmpty || Task.isCancelled { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            wakeWaiters()
        }
    }

    /// Ends every ``waitForBatch()`` under way, batch or not (shutdown).
    func wakeWaiters() {
        let waiters = state.withLock { state in
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Files

    private func path(_ sequence: UInt64) -> String { "\(configuration.directory)/\(Self.fileName(sequence))" }

    /// A removal is durable once the folder is synced: without it, a crash could bring a sent batch back.
    private func syncDirectory() {
        let descriptor = open(configuration.directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    static func fileName(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".batch"
    }

    static func sequence(ofFile name: String) -> UInt64? {
        guard name.hasSuffix(".batch"), name.utf8.count == 26 else { return nil }
        return UInt64(name.prefix(20))
    }

    static func encode(payload: [UInt8], samples: Int, created: Int64, highestTimestamp: Int64) -> [UInt8] {
        var file = magic + [version, 0, 0, 0]
        file.reserveCapacity(headerLength + payload.count)
        appendLittleEndian(UInt64(bitPattern: created), to: &file)
        appendLittleEndian(UInt64(bitPattern: highestTimestamp), to: &file)
        appendLittleEndian(UInt32(clamping: samples), to: &file)
        appendLittleEndian(UInt32(payload.count), to: &file)
        var crc = file.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        crc = payload.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
        appendLittleEndian(UInt32(truncatingIfNeeded: crc), to: &file)
        file += payload
        return file
    }

    /// A batch file's contents, or nil when the magic, version, length or checksum does not hold.
    static func decode(_ file: [UInt8], sequence: UInt64) -> Batch? {
        guard let fields = headerFields(file), file.count == headerLength + fields.length else { return nil }
        var crc = file.withUnsafeBufferPointer { crc32(0, $0.baseAddress, 32) }
        crc = file.withUnsafeBufferPointer { crc32(crc, $0.baseAddress! + headerLength, uInt(fields.length)) }
        guard UInt32(truncatingIfNeeded: crc) == readLittleEndian(file, at: 32, as: UInt32.self) else { return nil }
        return Batch(
            sequence: sequence, created: fields.created, highestTimestamp: fields.highestTimestamp,
            samples: fields.samples, payload: Array(file[headerLength...]))
    }

    private static func headerFields(_ file: [UInt8]) -> (
        created: Int64, highestTimestamp: Int64, samples: Int, length: Int
    )? {
        guard file.count >= headerLength, file.prefix(4).elementsEqual(magic), file[4] == version else { return nil }
        return (
            Int64(bitPattern: readLittleEndian(file, at: 8, as: UInt64.self)),
            Int64(bitPattern: readLittleEndian(file, at: 16, as: UInt64.self)),
            Int(readLittleEndian(file, at: 24, as: UInt32.self)),
            Int(readLittleEndian(file, at: 28, as: UInt32.self))
        )
    }

    private static func appendLittleEndian<Value: FixedWidthInteger>(_ value: Value, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private static func readLittleEndian<Value: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as: Value.Type)
        -> Value
    {
        var value = Value.zero
        for index in (0..<MemoryLayout<Value>.size).reversed() { value = value << 8 | Value(bytes[offset + index]) }
        return value
    }

    private static func fileSize(_ path: String) -> Int {
        var status = stat()
        return stat(path, &status) == 0 ? Int(status.st_size) : 0
    }

    /// `mkdir -p`, mode 0700: the batches hold every series of the node.
    private static func makeDirectories(_ path: String) throws(TextfileError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                throw TextfileError(step: "create queue folder", errno: errno, path: prefix)
            }
        }
    }
}
