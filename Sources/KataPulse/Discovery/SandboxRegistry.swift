import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A change of the discovered sandbox set.
public struct DiscoveryChange: Sendable, Equatable {
    public var added: [String]
    public var removed: [String]
    /// Every sandbox discovered after the change, sorted.
    public var current: [String]
}

/// Finds Kata sandboxes: one directory per sandbox under each sandbox root.
///
/// Every root is watched with inotify (directories only). A root that does not exist yet is retried every
/// `rootRetryInterval` and picked up when it appears; a full rescan every `rescanInterval` repairs anything
/// an event could have missed (queue overflow, a root replaced). The same id under two roots is one sandbox,
/// present until it is gone from all of them. Names that are not valid sandbox ids are ignored and logged once.
public actor SandboxRegistry: Service {
    /// Where sandboxes are looked for, and how often everything is looked at again.
    public struct Configuration: Sendable {
        /// The Go runtime's sandbox root.
        public static let goRuntimeRoot = "/run/vc/sbs"
        /// runtime-rs's sandbox root.
        public static let runtimeRSRoot = "/run/kata"
        /// The Go runtime's and runtime-rs's sandbox roots.
        public static let defaultRoots = [goRuntimeRoot, runtimeRSRoot]

        /// Directories holding one directory per sandbox, searched in order.
        public var roots: [String]
        /// Time between full rescans (inotify reports changes in between).
        public var rescanInterval: Duration = .seconds(30)
        /// Time between looks for a root that does not exist yet.
        public var rootRetryInterval: Duration = .seconds(1)

        public init(roots: [String] = defaultRoots) {
            self.roots = roots
        }
    }

    /// Every change of the sandbox set, starting with the initial scan; one consumer.
    public nonisolated let changes: AsyncStream<DiscoveryChange>

    private let configuration: Configuration
    private let logger: Logger
    /// `changes`' continuation and those of ``subscribe()``'s streams.
    private nonisolated let subscribers: Mutex<[AsyncStream<DiscoveryChange>.Continuation]>
    /// Which roots each sandbox is present under (indices into `configuration.roots`).
    private var presence: [String: Set<Int>] = [:]
    private var published: Set<String> = []
    private var watches: [Int: CInt] = [:]
    private var ignoredNames: Set<String> = []
    private var missingRootsLogged: Set<Int> = []
    private var initialScanDone = false
    private var hasPublished = false

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        let (changes, continuation) = AsyncStream.makeStream(of: DiscoveryChange.self)
        self.changes = changes
        self.subscribers = Mutex([continuation])
    }

    /// Another stream of every change, for one more consumer; subscribe before ``run()`` to see the first scan.
    public nonisolated func subscribe() -> AsyncStream<DiscoveryChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: DiscoveryChange.self)
        subscribers.withLock { $0.append(continuation) }
        return stream
    }

    /// The sandboxes discovered now, sorted.
    public var sandboxes: [String] { published.sorted() }

    /// Whether the first scan of every existing root has completed.
    public var isReady: Bool { initialScanDone }

    private enum Input: Sendable {
        case events([InotifyEvent])
        case tick
    }

    public func run() async throws {
        let (inputs, inputContinuation) = AsyncStream.makeStream(of: Input.self)
        var inotify: Inotify?
        do {
            let instance = try Inotify()
            instance.start { inputContinuation.yield(.events($0)) }
            inotify = instance
        } catch {
            logger.error(
                "inotify unavailable; discovery falls back to periodic rescans", metadata: ["error": "\(error)"])
        }
        defer { inotify?.stop() }

        for index in configuration.roots.indices { attachRoot(index, inotify: inotify) }
        rescanAll()
        initialScanDone = true
        publish()

        let retry = configuration.rootRetryInterval
        var lastRescan = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: retry)
                    inputContinuation.yield(.tick)
                }
            }
            for await input in inputs.cancelOnGracefulShutdown() {
                switch input {
                case .events(let events):
                    handle(events, inotify: inotify)
                case .tick:
                    for index in configuration.roots.indices where watches[index] == nil {
                        attachRoot(index, inotify: inotify)
                    }
                    if ContinuousClock.now - lastRescan >= configuration.rescanInterval || inotify == nil {
                        lastRescan = .now
                        rescanAll()
                    }
                }
                publish()
            }
            group.cancelAll()
        }
        for subscriber in subscribers.withLock({ $0 }) { subscriber.finish() }
    }

    /// Starts watching a root if it exists, and scans it.
    private func attachRoot(_ index: Int, inotify: Inotify?) {
        let root = configuration.roots[index]
        guard let inotify else { return }
        do {
            let watch = try inotify.watch(root)
            if watches.values.contains(watch) {
                // Two configured roots are the same directory; one watch serves both.
                logger.warning("sandbox root configured twice", metadata: ["root": "\(root)"])
            }
            watches[index] = watch
            missingRootsLogged.remove(index)
            logger.info("watching sandbox root", metadata: ["root": "\(root)"])
            rescan(index)
        } catch {
            if missingRootsLogged.insert(index).inserted {
                logger.info(
                    "sandbox root not available yet; retrying",
                    metadata: ["root": "\(root)", "error": "\(error)"])
            }
        }
    }

    private func handle(_ events: [InotifyEvent], inotify: Inotify?) {
        for event in events {
            if event.isOverflow {
                logger.warning("inotify queue overflowed; rescanning")
                rescanAll()
                continue
            }
            let roots = watches.filter { $0.value == event.watch }.map(\.key)
            for index in roots {
                if event.watchEnded {
                    if event.mask & UInt32(IN_IGNORED) == 0 { inotify?.unwatch(event.watch) }
                    watches[index] = nil
                    logger.info("sandbox root went away", metadata: ["root": "\(configuration.roots[index])"])
                    dropRoot(index)
                    continue
                }
                guard event.isDirectory else { continue }
                if event.isAppearance {
                    add(event.name, root: index)
                } else if event.isDisappearance {
                    remove(event.name, root: index)
                }
            }
        }
    }

    private func rescanAll() {
        for index in configuration.roots.indices { rescan(index) }
    }

    /// Replaces what is known of one root with what its directory holds now.
    private func rescan(_ index: Int) {
        guard let names = Self.directories(in: configuration.roots[index]) else {
            dropRoot(index)
            return
        }
        var found: Set<String> = []
        for name in names where accept(name) { found.insert(name) }
        for (id, roots) in presence where roots.contains(index) && !found.contains(id) {
            remove(id, root: index)
        }
        for id in found { add(id, root: index) }
    }

    private func dropRoot(_ index: Int) {
        for (id, roots) in presence where roots.contains(index) { remove(id, root: index) }
    }

    private func add(_ name: String, root: Int) {
        guard accept(name) else { return }
        presence[name, default: []].insert(root)
    }

    private func remove(_ name: String, root: Int) {
        guard var roots = presence[name] else { return }
        roots.remove(root)
        presence[name] = roots.isEmpty ? nil : roots
    }

    private func accept(_ name: String) -> Bool {
        if SandboxID.isValid(name) { return true }
        if ignoredNames.count < 1_024, ignoredNames.insert(name).inserted {
            logger.warning("ignoring directory that is not a valid sandbox id", metadata: ["name": "\(name)"])
        }
        return false
    }

    private func publish() {
        let current = Set(presence.keys)
        if hasPublished && current == published { return }
        let added = current.subtracting(published).sorted()
        let removed = published.subtracting(current).sorted()
        published = current
        hasPublished = true
        for id in added { logger.info("sandbox discovered", metadata: ["sandbox_id": "\(id)"]) }
        for id in removed { logger.info("sandbox removed", metadata: ["sandbox_id": "\(id)"]) }
        let change = DiscoveryChange(added: added, removed: removed, current: current.sorted())
        for subscriber in subscribers.withLock({ $0 }) { subscriber.yield(change) }
    }

    /// Names of the subdirectories of `path` (symlinks excluded), or nil if it cannot be read.
    static func directories(in path: String) -> [String]? {
        DirectoryListing.entries(path)?.compactMap { entry in
            var isDirectory = entry.type == UInt8(DT_DIR)
            if entry.type == UInt8(DT_UNKNOWN) {
                var info = stat()
                isDirectory = lstat("\(path)/\(entry.name)", &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
            }
            return isDirectory ? entry.name : nil
        }
    }
}
