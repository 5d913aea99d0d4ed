/// The guest values the cAdvisor mapping reads from one sandbox's body, and nothing more.
///
/// Filled sample by sample, from parsed families or straight from the body as the collector reads it, so
/// that a round neither keeps the guest families nor parses the values the mapping ignores (most of
/// `kata_guest_vm_stat` and `kata_guest_meminfo`). Both ways apply the same rules: the first sample of an item
/// wins, except for `kata_guest_cpu_time{cpu="total"}`, where the last one does.
struct GuestReadings {
    /// A guest family the mapping reads.
    enum Source: CaseIterable {
        case cpu, memory, vmstat, netdev, diskstat, tasks, shimFDs, hypervisorFDs, virtiofsdFDs

        init?(family name: String) {
            guard let source = Self.allCases.first(where: { $0.familyName == name }) else { return nil }
            self = source
        }

        var familyName: String {
            switch self {
            case .cpu: "kata_guest_cpu_time"
            case .memory: "kata_guest_meminfo"
            case .vmstat: "kata_guest_vm_stat"
            case .netdev: "kata_guest_netdev_stat"
            case .diskstat: "kata_guest_diskstat"
            case .tasks: "kata_guest_tasks"
            case .shimFDs: "kata_shim_fds"
            case .hypervisorFDs: "kata_hypervisor_fds"
            case .virtiofsdFDs: "kata_virtiofsd_fds"
            }
        }

        /// The `item` values the mapping reads from this family.
        fileprivate var items: [String] {
            switch self {
            case .cpu: ["user", "nice", "system", "irq", "softirq"]
            case .memory:
                [
                    "mem_total", "mem_free", "inactive_file", "anon_pages", "cached", "buffers", "mapped", "swap_total",
                    "swap_free", "slab", "kernel_stack", "page_tables", "active_file",
                ]
            case .vmstat: ["pgfault", "pgmajfault", "oom_kill"]
            case .netdev:
                [
                    "recv_bytes", "recv_packets", "recv_errs", "recv_drop", "sent_bytes", "sent_packets", "sent_errs",
                    "sent_drop",
                ]
            case .diskstat:
                [
                    "reads", "merged", "sectors_read", "time_reading", "writes", "writes_merged", "sectors_written",
                    "time_writing", "in_progress", "time_in_progress", "weighted_time_in_progress",
                ]
            case .tasks: ["max", "cur"]
            case .shimFDs, .hypervisorFDs, .virtiofsdFDs: []
            }
        }
    }

    /// The values of one family's items (or of one interface's or disk's), by item name.
    struct Items {
        fileprivate let names: [String]
        fileprivate var values: [Double?]

        fileprivate init(_ source: Source) {
            names = source.items
            values = Array(repeating: nil, count: names.count)
        }

        subscript(item: String) -> Double? {
            guard let index = names.firstIndex(of: item) else { preconditionFailure("\(item) is not read") }
            return values[index]
        }
    }

    /// `kata_guest_cpu_time{cpu="total"}`.
    private(set) var cpuTotal = Items(.cpu)
    private(set) var memory = Items(.memory)
    private(set) var vmstat = Items(.vmstat)
    private(set) var tasks = Items(.tasks)
    /// Per interface and per disk, in order of appearance.
    private(set) var interfaces = Keyed(.netdev)
    private(set) var disks = Keyed(.diskstat)
    /// The one unlabelled sample of `kata_shim_fds`, `kata_hypervisor_fds` and `kata_virtiofsd_fds`.
    private(set) var descriptors: [Double?] = [nil, nil, nil]

    init() {}

    /// The readings of parsed families.
    init(_ families: [MetricFamily]) {
        for family in families {
            guard let source = Source(family: family.name) else { continue }
            for sample in family.samples { record(sample, of: source) }
        }
    }

    /// One value the readings hold: which one a sample set, so that a body of the same shape sets it again
    /// without the sample's labels being read (``set(_:to:)``).
    struct Cell: Sendable {
        fileprivate enum Group: UInt8, Sendable { case cpu, memory, vmstat, tasks, netdev, diskstat, descriptors }
        fileprivate let group: Group
        /// The interface's or disk's entry; 0 for the other groups.
        fileprivate let entry: UInt32
        fileprivate let item: UInt16

        fileprivate init(_ group: Group, entry: Int = 0, item: Int) {
            self.group = group
            self.entry = UInt32(entry)
            self.item = UInt16(item)
        }
    }

    /// Records one sample of a family the mapping reads; returns the value it set, if it set one.
    @discardableResult
    mutating func record(_ sample: some GuestSample, of source: Source) -> Cell? {
        switch source {
        case .cpu:
            guard sample.label("cpu", is: "total"), let index = sample.item(among: cpuTotal.names) else { return nil }
            cpuTotal.values[index] = sample.number
            return Cell(.cpu, item: index)
        case .memory: return Self.recordFirst(sample, in: &memory).map { Cell(.memory, item: $0) }
        case .vmstat: return Self.recordFirst(sample, in: &vmstat).map { Cell(.vmstat, item: $0) }
        case .tasks: return Self.recordFirst(sample, in: &tasks).map { Cell(.tasks, item: $0) }
        case .netdev:
            return interfaces.record(sample, keyedBy: "interface").map { Cell(.netdev, entry: $0.0, item: $0.1) }
        case .diskstat: return disks.record(sample, keyedBy: "disk").map { Cell(.diskstat, entry: $0.0, item: $0.1) }
        case .shimFDs, .hypervisorFDs, .virtiofsdFDs:
            let slot = source == .shimFDs ? 0 : source == .hypervisorFDs ? 1 : 2
            guard descriptors[slot] == nil && !sample.hasLabels else { return nil }
            descriptors[slot] = sample.number
            return Cell(.descriptors, item: slot)
        }
    }

    /// Sets a value that a sample of an earlier body of the same shape set.
    mutating func set(_ cell: Cell, to value: Double) {
        let item = Int(cell.item)
        switch cell.group {
        case .cpu: cpuTotal.values[item] = value
        case .memory: memory.values[item] = value
        case .vmstat: vmstat.values[item] = value
        case .tasks: tasks.values[item] = value
        case .netdev: interfaces.set(entry: Int(cell.entry), item: item, to: value)
        case .diskstat: disks.set(entry: Int(cell.entry), item: item, to: value)
        case .descriptors: descriptors[item] = value
        }
    }

    private static func recordFirst(_ sample: some GuestSample, in items: inout Items) -> Int? {
        guard let index = sample.item(among: items.names), items.values[index] == nil else { return nil }
        items.values[index] = sample.number
        return index
    }

    /// A family's items per value of an outer label (`interface`, `disk`).
    struct Keyed {
        private let source: Source
        private let names: [String]
        private var index: [String: Int] = [:]
        private var entries: [(key: String, items: Items)] = []

        fileprivate init(_ source: Source) {
            self.source = source
            names = source.items
        }

        /// The outer label's values, sorted, with their items.
        var sorted: [(key: String, items: Items)] { entries.sorted { $0.key < $1.key } }

        /// Records a sample under its outer label's value; returns the entry and item it set, if it set one.
        fileprivate mutating func record(_ sample: some GuestSample, keyedBy outer: String) -> (Int, Int)? {
            // A key whose items are all ignored would map to nothing: it is not kept.
            guard let item = sample.item(among: names), let key = sample.label(outer) else { return nil }
            let position: Int
            if let known = index[key] {
                position = known
            } else {
                position = entries.count
                index[key] = position
                entries.append((key, Items(source)))
            }
            guard entries[position].items.values[item] == nil else { return nil }
            entries[position].items.values[item] = sample.number
            return (position, item)
        }

        fileprivate mutating func set(entry: Int, item: Int, to value: Double) {
            entries[entry].items.values[item] = value
        }
    }
}

/// A sample as ``GuestReadings`` reads it: a parsed ``Sample``, or a sample line of the body being read.
protocol GuestSample {
    var hasLabels: Bool { get }
    /// The value; only asked for a sample the mapping reads.
    var number: Double { get }
    /// A label's value, unescaped; nil when absent.
    func label(_ name: String) -> String?
    /// Whether a label is present with exactly this value.
    func label(_ name: String, is value: String) -> Bool
    /// Where the `item` label's value is in `items`; nil when absent or not one of them.
    func item(among items: [String]) -> Int?
}

extension Sample: GuestSample {
    var hasLabels: Bool { !labels.isEmpty }

    var number: Double { value }

    func label(_ name: String, is value: String) -> Bool { label(name) == value }

    func item(among items: [String]) -> Int? {
        guard let item = label("item") else { return nil }
        return items.firstIndex(of: item)
    }
}

extension SampleLine: GuestSample {
    var hasLabels: Bool { !labels.isEmpty }

    private func span(_ name: String) -> LabelSpan? {
        labels.first { bytes($0.name).elementsEqual(name.utf8) }
    }

    func label(_ name: String) -> String? {
        guard let span = span(name) else { return nil }
        var scratch: [UInt8] = []
        return value(of: span, scratch: &scratch)
    }

    func label(_ name: String, is value: String) -> Bool {
        // An escaped or repaired value is never one of the plain words compared here.
        guard let span = span(name), !span.escaped, span.validUTF8 else { return false }
        return bytes(span.value).elementsEqual(value.utf8)
    }

    func item(among items: [String]) -> Int? {
        guard let span = span("item"), !span.escaped, span.validUTF8 else { return nil }
        let value = bytes(span.value)
        return items.firstIndex { $0.utf8.count == value.count && $0.utf8.elementsEqual(value) }
    }
}
