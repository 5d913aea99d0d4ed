/// One cAdvisor family KataPulse can emit: cAdvisor's name, HELP, TYPE and extra label names, exactly.
public struct CadvisorFamily: Sendable, Equatable {
    public let name: String
    public let help: String
    public let type: MetricType
    /// Labels besides cAdvisor's identity labels (`container`, `id`, `image`, `name`, `namespace`, `pod`).
    public let extraLabels: [String]

    /// Every label name of a sample of this family, sorted as the kubelet writes them.
    public var labelNames: [String] { (CadvisorCatalog.identityLabels + extraLabels).sorted() }
}

/// The cAdvisor families the mapper emits, as a real kubelet `/metrics/cadvisor` writes them.
///
/// Names, HELP and TYPE are copied from cAdvisor's output, never invented; a test checks every entry
/// against a real kubelet capture.
public enum CadvisorCatalog {
    /// The labels every cAdvisor container series carries.
    public static let identityLabels = ["container", "id", "image", "name", "namespace", "pod"]

    static func family(_ name: String, _ type: MetricType, _ help: String, _ extra: [String] = []) -> CadvisorFamily {
        CadvisorFamily(name: name, help: help, type: type, extraLabels: extra)
    }

    static let cpuUsage = family(
        "container_cpu_usage_seconds_total", .counter, "Cumulative cpu time consumed in seconds.", ["cpu"])
    static let cpuUser = family(
        "container_cpu_user_seconds_total", .counter, "Cumulative user cpu time consumed in seconds.")
    static let cpuSystem = family(
        "container_cpu_system_seconds_total", .counter, "Cumulative system cpu time consumed in seconds.")
    static let memoryUsage = family(
        "container_memory_usage_bytes", .gauge,
        "Current memory usage in bytes, including all memory regardless of when it was accessed")
    static let memoryWorkingSet = family(
        "container_memory_working_set_bytes", .gauge, "Current working set in bytes.")
    static let memoryRSS = family("container_memory_rss", .gauge, "Size of RSS in bytes.")
    static let memoryCache = family("container_memory_cache", .gauge, "Number of bytes of page cache memory.")
    static let memoryMappedFile = family(
        "container_memory_mapped_file", .gauge, "Size of memory mapped files in bytes.")
    static let memorySwap = family("container_memory_swap", .gauge, "Container swap usage in bytes.")
    static let memoryKernel = family(
        "container_memory_kernel_usage", .gauge, "Size of kernel memory allocated in bytes.")
    static let memoryActiveFile = family(
        "container_memory_total_active_file_bytes", .gauge, "Current total active file in bytes.")
    static let memoryInactiveFile = family(
        "container_memory_total_inactive_file_bytes", .gauge, "Current total inactive file in bytes.")
    static let memoryFailures = family(
        "container_memory_failures_total", .counter, "Cumulative count of memory allocation failures.",
        ["failure_type", "scope"])
    static let oomEvents = family(
        "container_oom_events_total", .counter, "Count of out of memory events observed for the container")
    static let memoryLimit = family(
        "container_spec_memory_limit_bytes", .gauge, "Memory limit for the container.")
    static let networkReceiveBytes = family(
        "container_network_receive_bytes_total", .counter, "Cumulative count of bytes received", ["interface"])
    static let networkReceivePackets = family(
        "container_network_receive_packets_total", .counter, "Cumulative count of packets received", ["interface"])
    static let networkReceiveErrors = family(
        "container_network_receive_errors_total", .counter,
        "Cumulative count of errors encountered while receiving", ["interface"])
    static let networkReceiveDropped = family(
        "container_network_receive_packets_dropped_total", .counter,
        "Cumulative count of packets dropped while receiving", ["interface"])
    static let networkTransmitBytes = family(
        "container_network_transmit_bytes_total", .counter, "Cumulative count of bytes transmitted", ["interface"])
    static let networkTransmitPackets = family(
        "container_network_transmit_packets_total", .counter, "Cumulative count of packets transmitted",
        ["interface"])
    static let networkTransmitErrors = family(
        "container_network_transmit_errors_total", .counter,
        "Cumulative count of errors encountered while transmitting", ["interface"])
    static let networkTransmitDropped = family(
        "container_network_transmit_packets_dropped_total", .counter,
        "Cumulative count of packets dropped while transmitting", ["interface"])
    static let fsReads = family(
        "container_fs_reads_total", .counter, "Cumulative count of reads completed", ["device"])
    static let fsReadsMerged = family(
        "container_fs_reads_merged_total", .counter, "Cumulative count of reads merged", ["device"])
    static let fsSectorReads = family(
        "container_fs_sector_reads_total", .counter, "Cumulative count of sector reads completed", ["device"])
    static let fsReadsBytes = family(
        "container_fs_reads_bytes_total", .counter, "Cumulative count of bytes read", ["device"])
    static let fsReadSeconds = family(
        "container_fs_read_seconds_total", .counter, "Cumulative count of seconds spent reading", ["device"])
    static let fsWrites = family(
        "container_fs_writes_total", .counter, "Cumulative count of writes completed", ["device"])
    static let fsWritesMerged = family(
        "container_fs_writes_merged_total", .counter, "Cumulative count of writes merged", ["device"])
    static let fsSectorWrites = family(
        "container_fs_sector_writes_total", .counter, "Cumulative count of sector writes completed", ["device"])
    static let fsWritesBytes = family(
        "container_fs_writes_bytes_total", .counter, "Cumulative count of bytes written", ["device"])
    static let fsWriteSeconds = family(
        "container_fs_write_seconds_total", .counter, "Cumulative count of seconds spent writing", ["device"])
    static let fsIOCurrent = family(
        "container_fs_io_current", .gauge, "Number of I/Os currently in progress", ["device"])
    static let fsIOTime = family(
        "container_fs_io_time_seconds_total", .counter, "Cumulative count of seconds spent doing I/Os", ["device"])
    static let fsIOTimeWeighted = family(
        "container_fs_io_time_weighted_seconds_total", .counter, "Cumulative weighted I/O time in seconds",
        ["device"])
    static let fsUsage = family(
        "container_fs_usage_bytes", .gauge, "Number of bytes that are consumed by the container on this filesystem.",
        ["device"])
    static let threads = family("container_threads", .gauge, "Number of threads running inside the container")
    static let tasksState = family("container_tasks_state", .gauge, "Number of tasks in given state", ["state"])
    static let fileDescriptors = family(
        "container_file_descriptors", .gauge, "Number of open file descriptors for the container.")
    static let lastSeen = family(
        "container_last_seen", .gauge, "Last time a container was seen by the exporter")
    static let startTime = family(
        "container_start_time_seconds", .gauge, "Start time of the container since unix epoch in seconds.")

    /// Every family the mapper can emit.
    public static let all: [CadvisorFamily] = [
        cpuUsage, cpuUser, cpuSystem, memoryUsage, memoryWorkingSet, memoryRSS, memoryCache, memoryMappedFile,
        memorySwap, memoryKernel, memoryActiveFile, memoryInactiveFile, memoryFailures, oomEvents, memoryLimit,
        networkReceiveBytes, networkReceivePackets, networkReceiveErrors, networkReceiveDropped,
        networkTransmitBytes, networkTransmitPackets, networkTransmitErrors, networkTransmitDropped, fsReads,
        fsReadsMerged, fsSectorReads, fsReadsBytes, fsReadSeconds, fsWrites, fsWritesMerged, fsSectorWrites,
        fsWritesBytes, fsWriteSeconds, fsIOCurrent, fsIOTime, fsIOTimeWeighted, fsUsage, threads, tasksState,
        fileDescriptors, lastSeen, startTime,
    ]
}
