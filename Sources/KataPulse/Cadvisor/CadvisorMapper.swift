/// Who a sandbox is, as cAdvisor's labels say it.
public struct CadvisorIdentity: Sendable, Equatable {
    public var sandboxID: String
    /// Pod namespace and name from CRI; empty until known and on hosts without Kubernetes.
    public var namespace: String
    public var pod: String
    /// When set, the VM is labelled as a pseudo-container of this name (`container` and `image`), for
    /// dashboards that select `container!=""`; otherwise the series have the shape of a pod-level cgroup.
    public var vmContainer: String?
    /// When the pod sandbox was created (CRI `created_at`), Unix seconds; unknown without CRI.
    public var startTime: Double?

    public init(
        sandboxID: String, namespace: String = "", pod: String = "", vmContainer: String? = nil,
        startTime: Double? = nil
    ) {
        self.sandboxID = sandboxID
        self.namespace = namespace
        self.pod = pod
        self.vmContainer = vmContainer
        self.startTime = startTime
    }

    /// cAdvisor's identity labels, sorted by name as the kubelet writes them.
    var labels: [Label] {
        [
            Label("container", vmContainer ?? ""), Label("id", "/kata/\(sandboxID)"), Label("image", vmContainer ?? ""),
            Label("name", ""), Label("namespace", namespace), Label("pod", pod),
        ]
    }
}

/// Which guest block devices become `container_fs_*` series.
public struct DiskFilter: @unchecked Sendable {
    // Regex is an immutable value; it is only missing the Sendable annotation.
    /// The exclusion pattern, matched against the whole disk name.
    public let pattern: String
    private let regex: Regex<AnyRegexOutput>

    /// Partitions, loop, ram, floppy and optical devices: cAdvisor reports whole disks.
    public static let defaultPattern =
        #"(loop|ram|fd|sr|zram|nbd)\d*|(sd|vd|xvd|hd)[a-z]+\d+|(nvme\d+n\d+|mmcblk\d+|pmem\d+|nbd\d+)p\d+|dm-\d+"#

    public init(excluding pattern: String = DiskFilter.defaultPattern) throws {
        self.pattern = pattern
        self.regex = try Regex(pattern)
    }

    /// Whether a disk is reported.
    public func includes(_ disk: String) -> Bool {
        (try? regex.wholeMatch(in: disk)) == nil
    }
}

/// Derives cAdvisor's `container_*` series from one sandbox's guest families.
///
/// Pure: parsed families and the sandbox's identity in, cAdvisor families out, sorted by name. A family
/// whose inputs are absent (an old guest, a runtime-rs body without agent families) is left out, never
/// emitted as zero. Every mapped counter is a sum of guest counters, so it only goes backwards when the
/// guest's do.
public enum CadvisorMapper {
    /// How guest families become cAdvisor's.
    public struct Configuration: Sendable {
        /// Guest disks left out of `container_fs_*`.
        public var disks = try! DiskFilter()
        /// Labels the VM as a pseudo-container of this name (`container` and `image`); nil for the pod shape.
        public var vmContainer: String?
        /// Publishes each container's own rows from CRI (``CadvisorContainerMapper``) when CRI is on.
        public var containers = true

        public init() {}
    }

    /// Maps one sandbox; `now` is the time of this (good) collection, published as `container_last_seen`.
    public static func map(
        _ families: [MetricFamily], identity: CadvisorIdentity, disks: DiskFilter, now: Double
    ) -> [MetricFamily] {
        map(GuestReadings(families), identity: identity, disks: disks, now: now)
    }

    /// Maps the guest values of one sandbox, as read from its families or straight from its body.
    static func map(
        _ guest: GuestReadings, identity: CadvisorIdentity, disks: DiskFilter, now: Double
    ) -> [MetricFamily] {
        var out = CadvisorEmitter(identity: identity.labels)

        let cpu = guest.cpuTotal
        if let user = cpu["user"], let system = cpu["system"] {
            let nice = cpu["nice"] ?? 0
            let kernel = system + (cpu["irq"] ?? 0) + (cpu["softirq"] ?? 0)
            // guest and guest_nice are already inside user and nice; steal, idle and iowait are not usage.
            out.add(CadvisorCatalog.cpuUsage, (user + nice + kernel) / 1000, [("cpu", "total")])
            out.add(CadvisorCatalog.cpuUser, (user + nice) / 1000)
            out.add(CadvisorCatalog.cpuSystem, kernel / 1000)
        }

        let memory = guest.memory
        if let total = memory["mem_total"], let free = memory["mem_free"] {
            let usage = total - free
            out.add(CadvisorCatalog.memoryUsage, usage)
            if let inactiveFile = memory["inactive_file"] {
                out.add(CadvisorCatalog.memoryWorkingSet, max(0, usage - inactiveFile))
            }
            out.add(CadvisorCatalog.memoryLimit, total)
        }
        if let value = memory["anon_pages"] { out.add(CadvisorCatalog.memoryRSS, value) }
        if let cached = memory["cached"], let buffers = memory["buffers"] {
            out.add(CadvisorCatalog.memoryCache, cached + buffers)
        }
        if let value = memory["mapped"] { out.add(CadvisorCatalog.memoryMappedFile, value) }
        if let total = memory["swap_total"], let free = memory["swap_free"] {
            out.add(CadvisorCatalog.memorySwap, max(0, total - free))
        }
        if let slab = memory["slab"], let stack = memory["kernel_stack"], let tables = memory["page_tables"] {
            out.add(CadvisorCatalog.memoryKernel, slab + stack + tables)
        }
        if let value = memory["active_file"] { out.add(CadvisorCatalog.memoryActiveFile, value) }
        if let value = memory["inactive_file"] { out.add(CadvisorCatalog.memoryInactiveFile, value) }

        let vmstat = guest.vmstat
        for (item, failureType) in [("pgfault", "pgfault"), ("pgmajfault", "pgmajfault")] {
            guard let value = vmstat[item] else { continue }
            for scope in ["container", "hierarchy"] {
                out.add(CadvisorCatalog.memoryFailures, value, [("failure_type", failureType), ("scope", scope)])
            }
        }
        if let value = vmstat["oom_kill"] { out.add(CadvisorCatalog.oomEvents, value) }

        for (interface, items) in guest.interfaces.sorted where interface != "lo" {
            for (item, family) in [
                ("recv_bytes", CadvisorCatalog.networkReceiveBytes),
                ("recv_packets", CadvisorCatalog.networkReceivePackets),
                ("recv_errs", CadvisorCatalog.networkReceiveErrors),
                ("recv_drop", CadvisorCatalog.networkReceiveDropped),
                ("sent_bytes", CadvisorCatalog.networkTransmitBytes),
                ("sent_packets", CadvisorCatalog.networkTransmitPackets),
                ("sent_errs", CadvisorCatalog.networkTransmitErrors),
                ("sent_drop", CadvisorCatalog.networkTransmitDropped),
            ] {
                if let value = items[item] { out.add(family, value, [("interface", interface)]) }
            }
        }

        for (disk, items) in guest.disks.sorted where disks.includes(disk) {
            let device = [("device", "/dev/\(disk)")]
            // Sectors are 512 bytes whatever the device's block size; times are milliseconds (divided, not
            // multiplied by 0.001, so 236 ms is 0.236 s exactly as written).
            for (item, family, multiplier, divisor) in [
                ("reads", CadvisorCatalog.fsReads, 1.0, 1.0), ("merged", CadvisorCatalog.fsReadsMerged, 1, 1),
                ("sectors_read", CadvisorCatalog.fsSectorReads, 1, 1),
                ("sectors_read", CadvisorCatalog.fsReadsBytes, 512, 1),
                ("time_reading", CadvisorCatalog.fsReadSeconds, 1, 1000), ("writes", CadvisorCatalog.fsWrites, 1, 1),
                ("writes_merged", CadvisorCatalog.fsWritesMerged, 1, 1),
                ("sectors_written", CadvisorCatalog.fsSectorWrites, 1, 1),
                ("sectors_written", CadvisorCatalog.fsWritesBytes, 512, 1),
                ("time_writing", CadvisorCatalog.fsWriteSeconds, 1, 1000),
                ("in_progress", CadvisorCatalog.fsIOCurrent, 1, 1),
                ("time_in_progress", CadvisorCatalog.fsIOTime, 1, 1000),
                ("weighted_time_in_progress", CadvisorCatalog.fsIOTimeWeighted, 1, 1000),
            ] {
                if let value = items[item] { out.add(family, value * multiplier / divisor, device) }
            }
        }

        let tasks = guest.tasks
        if let value = tasks["max"] { out.add(CadvisorCatalog.threads, value) }
        if let value = tasks["cur"] { out.add(CadvisorCatalog.tasksState, value, [("state", "running")]) }

        // The pod's host-side descriptors: the shim's, the hypervisor's and virtiofsd's.
        let descriptors = guest.descriptors.compactMap { $0 }
        if !descriptors.isEmpty { out.add(CadvisorCatalog.fileDescriptors, descriptors.reduce(0, +)) }

        out.add(CadvisorCatalog.lastSeen, now)
        if let startTime = identity.startTime { out.add(CadvisorCatalog.startTime, startTime) }
        return out.families
    }
}

/// Collects samples per catalog family with cAdvisor's label set.
struct CadvisorEmitter {
    let identity: [Label]
    private var byName: [String: MetricFamily] = [:]

    init(identity: [Label]) {
        self.identity = identity
    }

    mutating func add(_ family: CadvisorFamily, _ value: Double, _ extra: [(String, String)] = []) {
        var labels = identity
        for (name, value) in extra { labels.append(Label(name, value)) }
        labels.sort { $0.name < $1.name }
        byName[family.name, default: MetricFamily(name: family.name, help: family.help, type: family.type)]
            .samples.append(Sample(name: family.name, labels: labels, value: value))
    }

    var families: [MetricFamily] { byName.values.sorted { $0.name < $1.name } }
}

extension Sample {
    /// The value of a label, if present.
    func label(_ name: String) -> String? {
        labels.first { $0.name == name }?.value
    }
}
