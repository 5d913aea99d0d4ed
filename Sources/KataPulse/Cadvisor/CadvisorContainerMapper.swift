/// cAdvisor's per-container rows (`container` and `image` set) for one sandbox's containers, from what the
/// runtime reports over CRI; the rows kubernetes-mixin's dashboards and recording rules select
/// (`container!="", image!=""`).
///
/// Pure: usage in, families out, sorted by name. Units are converted exactly (CPU nanoseconds to seconds);
/// what the runtime did not report is left out, never emitted as zero.
public enum CadvisorContainerMapper {
    /// Maps one sandbox's containers; `namespace` and `pod` are the sandbox's (the same as its pod-level
    /// rows), `now` is when the usage was read (`container_last_seen`).
    public static func map(
        _ containers: [ContainerUsage], sandboxID: String, namespace: String, pod: String, now: Double
    ) -> [MetricFamily] {
        var families: [String: MetricFamily] = [:]
        for usage in containers {
            let container = usage.container
            var out = CadvisorEmitter(identity: [
                Label("container", container.name), Label("id", "/kata/\(sandboxID)/\(container.id)"),
                Label("image", container.image), Label("name", container.id), Label("namespace", namespace),
                Label("pod", pod),
            ])
            let stats = usage.stats
            if let value = stats.cpuNanoseconds {
                out.add(CadvisorCatalog.cpuUsage, UnixTime.seconds(nanoseconds: value), [("cpu", "total")])
            }
            if let value = stats.usageBytes { out.add(CadvisorCatalog.memoryUsage, Double(value)) }
            if let value = stats.workingSetBytes { out.add(CadvisorCatalog.memoryWorkingSet, Double(value)) }
            if let value = stats.rssBytes { out.add(CadvisorCatalog.memoryRSS, Double(value)) }
            if let value = stats.swapBytes { out.add(CadvisorCatalog.memorySwap, Double(value)) }
            for (value, failureType) in [(stats.pageFaults, "pgfault"), (stats.majorPageFaults, "pgmajfault")] {
                guard let value else { continue }
                // A container's cgroup is a leaf: its own count and its hierarchy's are the same.
                for scope in ["container", "hierarchy"] {
                    out.add(
                        CadvisorCatalog.memoryFailures, Double(value),
                        [("failure_type", failureType), ("scope", scope)])
                }
            }
            if let value = stats.writableLayerBytes {
                out.add(CadvisorCatalog.fsUsage, Double(value), [("device", stats.writableLayerMountpoint)])
            }
            out.add(CadvisorCatalog.lastSeen, now)
            if let createdAt = container.createdAt { out.add(CadvisorCatalog.startTime, createdAt) }
            for family in out.families {
                families[family.name, default: MetricFamily(name: family.name, help: family.help, type: family.type)]
                    .samples += family.samples
            }
        }
        return families.values.sorted { $0.name < $1.name }
    }
}
