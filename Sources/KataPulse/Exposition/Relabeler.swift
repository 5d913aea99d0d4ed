/// The labels kata-monitor appends to every sample of a sandbox, in its order.
public struct SandboxLabels: Sendable, Equatable {
    public var sandboxID: String
    public var criUID: String
    public var criName: String
    public var criNamespace: String

    /// The label names, in the order they are appended.
    public static let names = ["sandbox_id", "cri_uid", "cri_name", "cri_namespace"]

    public init(sandboxID: String, criUID: String = "", criName: String = "", criNamespace: String = "") {
        self.sandboxID = sandboxID
        self.criUID = criUID
        self.criName = criName
        self.criNamespace = criNamespace
    }

    var labels: [Label] {
        [
            Label("sandbox_id", sandboxID), Label("cri_uid", criUID), Label("cri_name", criName),
            Label("cri_namespace", criNamespace),
        ]
    }
}

/// What relabelling one sandbox produced.
public struct RelabelResult: Sendable, Equatable {
    /// The relabelled families, sorted by name.
    public var families: [MetricFamily]
    /// Samples dropped because an identical series (same name and label set) came earlier.
    public var duplicateSeries: Int
    /// Samples dropped because their family name is reserved for the agent's own metrics.
    public var reservedFamilySamples: Int
}

/// Applies the kata-monitor relabelling contract to one sandbox's families.
///
/// - `go_*` / `process_*` families become `kata_shim_go_*` / `kata_shim_process_*`;
/// - `sandbox_id`, `cri_uid`, `cri_name`, `cri_namespace` are appended after the sample's own labels and
///   before `le` / `quantile`; a shim label with one of those names is dropped, never duplicated;
/// - labels named `__*` are dropped; duplicate series are dropped (first wins);
/// - families that would collide with the agent's own (`kata_monitor_*`, `kata_pulse_*`) are dropped.
public enum Relabeler {
    /// Family name prefixes only the agent itself may emit (its own families and the cAdvisor mapping's).
    public static let reservedPrefixes = ["kata_monitor_", "kata_pulse_", "container_"]

    public static func relabel(_ families: [MetricFamily], with identity: SandboxLabels) -> RelabelResult {
        let appended = identity.labels
        var result: [MetricFamily] = []
        result.reserveCapacity(families.count)
        var seenFamilies: Set<String> = []
        var seenSeries: Set<SeriesIdentity> = []
        var duplicates = 0
        var reserved = 0
        for family in families {
            let name = renamed(family.name)
            if reservedPrefixes.contains(where: { name.hasPrefix($0) }) || seenFamilies.contains(name) {
                reserved += seenFamilies.contains(name) ? 0 : family.samples.count
                duplicates += seenFamilies.contains(name) ? family.samples.count : 0
                continue
            }
            seenFamilies.insert(name)
            let trailing = trailingLabel(of: family.type)
            var samples: [Sample] = []
            samples.reserveCapacity(family.samples.count)
            for sample in family.samples {
                var labels: [Label] = []
                labels.reserveCapacity(sample.labels.count + appended.count)
                var last: Label?
                for label in sample.labels {
                    if label.name.hasPrefix("__") || SandboxLabels.names.contains(label.name) { continue }
                    if let trailing, label.name == trailing {
                        last = label
                    } else {
                        labels.append(label)
                    }
                }
                labels.append(contentsOf: appended)
                if let last { labels.append(last) }
                // The family decides the rename (as in kata-monitor): `go_sum` of a summary `go` stays `go_sum`.
                let sampleName = name == family.name ? sample.name : renamed(sample.name)
                let relabelled = Sample(name: sampleName, labels: labels, value: sample.value)
                guard seenSeries.insert(SeriesIdentity(sample: relabelled)).inserted else {
                    duplicates += 1
                    continue
                }
                samples.append(relabelled)
            }
            result.append(MetricFamily(name: name, help: family.help, type: family.type, samples: samples))
        }
        result.sort { $0.name < $1.name }
        return RelabelResult(families: result, duplicateSeries: duplicates, reservedFamilySamples: reserved)
    }

    /// `go_*` → `kata_shim_go_*`, `process_*` → `kata_shim_process_*`, other names unchanged.
    public static func renamed(_ name: String) -> String {
        if name.hasPrefix("go_") || name.hasPrefix("process_") { return "kata_shim_" + name }
        return name
    }

    static func trailingLabel(of type: MetricType) -> String? {
        switch type {
        case .histogram: "le"
        case .summary: "quantile"
        default: nil
        }
    }

}

/// A series' identity for de-duplication: its name and its set of labels, whatever their order.
///
/// Hashing combines the labels order-independently and equality compares them as sets (a sample's
/// label names are unique), so no sorted copy or string key is built per sample.
struct SeriesIdentity: Hashable {
    let sample: Sample

    func hash(into hasher: inout Hasher) {
        hasher.combine(sample.name)
        hasher.combine(sample.labels.count)
        var combined = 0
        for label in sample.labels {
            var labelHasher = Hasher()
            labelHasher.combine(label.name)
            labelHasher.combine(label.value)
            combined &+= labelHasher.finalize()
        }
        hasher.combine(combined)
    }

    static func == (lhs: SeriesIdentity, rhs: SeriesIdentity) -> Bool {
        lhs.sample.name == rhs.sample.name && lhs.sample.labels.count == rhs.sample.labels.count
            && lhs.sample.labels.allSatisfy { rhs.sample.labels.contains($0) }
    }
}
