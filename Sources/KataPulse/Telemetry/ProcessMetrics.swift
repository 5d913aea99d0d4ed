import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One reading of the agent's own process, as client_golang's process collector reports it.
struct ProcessReading: Sendable, Equatable {
    var cpuSeconds: Double
    var openFileDescriptors: Double
    var maxFileDescriptors: Double
    var residentMemoryBytes: Double
    var virtualMemoryBytes: Double
    var virtualMemoryMaxBytes: Double

    /// The fields of `/proc/self/stat` the collector reads: CPU ticks, start ticks, virtual size, resident pages.
    struct Stat: Sendable, Equatable {
        var userTicks: Double
        var systemTicks: Double
        var startTicks: Double
        var virtualBytes: Double
        var residentPages: Double

        /// Parses `/proc/PID/stat`; the command name (field 2) may hold spaces and parentheses, so fields
        /// are counted after its last `)`.
        init?(_ text: String) {
            guard let close = text.lastIndex(of: ")") else { return nil }
            let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
            // fields[0] is field 3 (state): field N is fields[N - 3].
            func field(_ number: Int) -> Double? {
                fields.indices.contains(number - 3) ? Double(fields[number - 3].trimmingSpaces()) : nil
            }
            guard let user = field(14), let system = field(15), let start = field(22), let virtual = field(23),
                let resident = field(24)
            else { return nil }
            (userTicks, systemTicks, startTicks, virtualBytes, residentPages) = (user, system, start, virtual, resident)
        }
    }
}

/// The `kata_monitor_process_*` families kata-monitor publishes (its Go client's process collector, renamed),
/// read from `/proc/self` and the process's limits, which the systemd unit's `ProcSubset=pid` leaves readable.
///
/// Read when a scrape asks, at most once per `maximumAge` (a flood of requests costs one reading a second).
/// The Go-runtime families (`kata_monitor_go_*`) have no truthful equivalent in a Swift process and are not
/// published.
final class ProcessMetrics: Sendable {
    static let cpuSeconds = OwnMetric.counter(
        "kata_monitor_process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
    static let openFDs = OwnMetric.gauge("kata_monitor_process_open_fds", "Number of open file descriptors.")
    static let maxFDs = OwnMetric.gauge("kata_monitor_process_max_fds", "Maximum number of open file descriptors.")
    static let residentMemory = OwnMetric.gauge(
        "kata_monitor_process_resident_memory_bytes", "Resident memory size in bytes.")
    static let startTime = OwnMetric.gauge(
        "kata_monitor_process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
    static let virtualMemory = OwnMetric.gauge(
        "kata_monitor_process_virtual_memory_bytes", "Virtual memory size in bytes.")
    static let virtualMemoryMax = OwnMetric.gauge(
        "kata_monitor_process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.")

    private let maximumAge: Duration
    private let ticksPerSecond: Double
    private let pageSize: Double
    /// Fixed for the process's life, so computed once: a gauge that jittered would look like restarts.
    private let startTimeSeconds: Double?
    private let cache = Mutex<(reading: ProcessReading, at: ContinuousClock.Instant)?>(nil)

    init(maximumAge: Duration = .seconds(1)) {
        self.maximumAge = maximumAge
        ticksPerSecond = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
        pageSize = Double(max(1, sysconf(Int32(_SC_PAGESIZE))))
        startTimeSeconds = Self.readStat().map { [ticksPerSecond] stat in
            // Start ticks count from boot (CLOCK_BOOTTIME); /proc/stat's btime is not readable under
            // ProcSubset=pid, so the boot time is the wall clock minus the time since boot.
            ((Self.bootTime() + stat.startTicks / ticksPerSecond) * 100).rounded() / 100
        }
    }

    /// The families, in the order kata-monitor writes them (sorted by name); empty if `/proc/self` is unreadable.
    var families: [MetricFamily] {
        let now = ContinuousClock.now
        let cached = cache.withLock { cached in cached.flatMap { now - $0.at < maximumAge ? $0.reading : nil } }
        guard let reading = cached ?? read() else { return [] }
        if cached == nil { cache.withLock { $0 = (reading, now) } }
        var families = [
            Self.cpuSeconds.family(reading.cpuSeconds),
            Self.maxFDs.family(reading.maxFileDescriptors),
            Self.openFDs.family(reading.openFileDescriptors),
            Self.residentMemory.family(reading.residentMemoryBytes),
        ]
        if let startTimeSeconds { families.append(Self.startTime.family(startTimeSeconds)) }
        families += [
            Self.virtualMemory.family(reading.virtualMemoryBytes),
            Self.virtualMemoryMax.family(reading.virtualMemoryMaxBytes),
        ]
        return families
    }

    private func read() -> ProcessReading? {
        guard let stat = Self.readStat(), let descriptors = DirectoryListing.entries("/proc/self/fd") else {
            return nil
        }
        return ProcessReading(
            cpuSeconds: (stat.userTicks + stat.systemTicks) / ticksPerSecond,
            openFileDescriptors: Double(descriptors.count),
            maxFileDescriptors: Self.softLimit(Int32(RLIMIT_NOFILE.rawValue)),
            residentMemoryBytes: stat.residentPages * pageSize, virtualMemoryBytes: stat.virtualBytes,
            virtualMemoryMaxBytes: Self.softLimit(Int32(RLIMIT_AS.rawValue)))
    }

    private static func readStat() -> ProcessReading.Stat? {
        guard let bytes = try? FileContents.read("/proc/self/stat", limit: 4_096) else { return nil }
        return ProcessReading.Stat(String(decoding: bytes, as: UTF8.self))
    }

    /// A soft resource limit; unlimited is 2^64 − 1, as Go's procfs reports it.
    private static func softLimit(_ resource: Int32) -> Double {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return 0 }
        return limit.rlim_cur == rlim_t.max ? Double(UInt64.max) : Double(limit.rlim_cur)
    }

    private static func bootTime() -> Double {
        var wall = timespec()
        var sinceBoot = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        clock_gettime(CLOCK_BOOTTIME, &sinceBoot)
        return Double(wall.tv_sec - sinceBoot.tv_sec) + Double(wall.tv_nsec - sinceBoot.tv_nsec) / 1e9
    }
}
