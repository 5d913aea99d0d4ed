import Testing

@testable import KataPulse
@testable import KataPulseSimulator

/// A sample's identity within a body: its name and labels in order.
private func seriesKey(_ sample: Sample) -> String {
    sample.name + "{" + sample.labels.map { "\($0.name)=\($0.value)" }.joined(separator: ",") + "}"
}

private func parse(_ bytes: [UInt8]) throws -> [MetricFamily] {
    try ExpositionParser().parse(bytes)
}

/// Values of every sample in families of the given types (histograms: `_bucket` and `_count`).
private func cumulativeValues(_ families: [MetricFamily]) -> [String: Double] {
    var values: [String: Double] = [:]
    for family in families {
        switch family.type {
        case .counter:
            for sample in family.samples { values[seriesKey(sample)] = sample.value }
        case .histogram, .summary:
            for sample in family.samples where sample.name.hasSuffix("_count") || sample.name.hasSuffix("_bucket") {
                values[seriesKey(sample)] = sample.value
            }
        default:
            break
        }
    }
    return values
}

private func value(_ families: [MetricFamily], _ name: String, _ labels: [String: String]) -> Double? {
    for family in families {
        for sample in family.samples where sample.name == name {
            let sampleLabels = Dictionary(uniqueKeysWithValues: sample.labels.map { ($0.name, $0.value) })
            if sampleLabels == labels { return sample.value }
        }
    }
    return nil
}

private func family(_ families: [MetricFamily], _ name: String) -> MetricFamily? {
    families.first { $0.name == name }
}

@Test(arguments: ShimFlavor.allCases)
func simulatedShimBodyParses(flavor: ShimFlavor) throws {
    for seed: UInt64 in [0, 1, 2, 3, 42, 0xDEAD_BEEF] {
        let body = SimulatedShimBody(sandboxID: "sb1", flavor: flavor, seed: seed)
        for elapsed in [0.0, 10, 70, 3_600, 86_400] {
            let families = try parse(body.render(elapsed: elapsed))
            #expect(families.count >= (flavor == .go ? 65 : 24))
            #expect(families.allSatisfy { $0.help != nil && !$0.samples.isEmpty })
        }
    }
}

@Test func simulatedShimBodyGoShape() throws {
    for seed: UInt64 in 0..<8 {
        let families = try parse(SimulatedShimBody(sandboxID: "sb1", flavor: .go, seed: seed).render(elapsed: 600))
        let samples = families.reduce(0) { $0 + $1.samples.count }
        #expect(families.count >= 65)
        #expect((700...1200).contains(samples), "seed \(seed): \(samples) samples")
        #expect(family(families, "go_memstats_alloc_bytes_total")?.type == .counter)
        #expect(family(families, "go_gc_duration_seconds")?.type == .summary)
        #expect(family(families, "kata_shim_rpc_durations_histogram_milliseconds")?.type == .histogram)
        #expect(family(families, "kata_shim_threads")?.type == .gauge)
        #expect(family(families, "kata_shim_proc_status")?.samples.count == 19)
        #expect(family(families, "kata_agent_proc_status")?.samples.count == 18)
        #expect(family(families, "kata_guest_meminfo")?.samples.count == 58)
        #expect(family(families, "kata_hypervisor_netdev")?.samples.count == 48)
        #expect(family(families, "kata_guest_cpu_time")?.samples.count == 10 * (2 + Int(seed % 4)))
        #expect(family(families, "process_cpu_seconds_total")?.type == .counter)
    }
}

@Test func simulatedShimBodyRustShape() throws {
    let families = try parse(SimulatedShimBody(sandboxID: "sb1", flavor: .rust, seed: 5).render(elapsed: 600))
    let names = families.map(\.name)
    #expect(names.first == "kata_agent_io_stat")
    #expect(names.last == "kata_shim_threads")
    #expect(!names.contains { $0.hasPrefix("go_") || $0.hasPrefix("process_") })
    #expect(family(families, "kata_hypervisor_scrape_count")?.type == .counter)
    #expect(family(families, "kata_hypervisor_vcpu")?.samples.count == 6 * 2)
    // runtime-rs reads its own /proc with Rust procfs: 18 items in KiB and underscored io names.
    #expect(family(families, "kata_shim_proc_status")?.samples.count == 18)
    #expect(value(families, "kata_shim_io_stat", ["item": "read_bytes"]) != nil)
}

@Test(arguments: ShimFlavor.allCases)
func simulatedShimBodyCountersDoNotDecrease(flavor: ShimFlavor) throws {
    for seed: UInt64 in 0..<16 {
        let body = SimulatedShimBody(sandboxID: "sb1", flavor: flavor, seed: seed)
        let early = cumulativeValues(try parse(body.render(elapsed: 10)))
        let late = cumulativeValues(try parse(body.render(elapsed: 70)))
        #expect(!early.isEmpty)
        #expect(Set(early.keys) == Set(late.keys))
        for (key, before) in early {
            let after = try #require(late[key])
            #expect(after >= before, "seed \(seed): \(key) went from \(before) to \(after)")
        }
        #expect(late.contains { key, after in after > early[key]! })
    }
}

@Test func simulatedShimBodyHistogramsAreCumulative() throws {
    for seed: UInt64 in 0..<8 {
        let families = try parse(SimulatedShimBody(sandboxID: "sb1", flavor: .go, seed: seed).render(elapsed: 3_600))
        for family in families where family.type == .histogram {
            var buckets: [String: [Double]] = [:]
            var counts: [String: Double] = [:]
            for sample in family.samples {
                let action = sample.labels.first { $0.name == "action" }?.value ?? ""
                if sample.name.hasSuffix("_bucket") {
                    buckets[action, default: []].append(sample.value)
                } else if sample.name.hasSuffix("_count") {
                    counts[action] = sample.value
                }
            }
            #expect(!buckets.isEmpty)
            for (action, values) in buckets {
                #expect(values.count == 11)
                #expect(zip(values, values.dropFirst()).allSatisfy { $0 <= $1 }, "\(action)")
                #expect(values.last == counts[action], "\(action)")
            }
        }
    }
}

@Test(arguments: ShimFlavor.allCases)
func simulatedShimBodyIsSelfConsistent(flavor: ShimFlavor) throws {
    for seed: UInt64 in 0..<8 {
        let families = try parse(SimulatedShimBody(sandboxID: "sb1", flavor: flavor, seed: seed).render(elapsed: 900))
        func mem(_ item: String) -> Double { value(families, "kata_guest_meminfo", ["item": item]) ?? .nan }
        #expect(mem("mem_free") < mem("mem_total"))
        #expect(mem("mem_available") <= mem("mem_total"))
        #expect(mem("active") == mem("active_anon") + mem("active_file"))
        #expect(mem("inactive") == mem("inactive_anon") + mem("inactive_file"))
        #expect(mem("slab") == mem("s_reclaimable") + mem("s_unreclaim"))
        #expect(value(families, "kata_guest_vm_stat", ["item": "nr_free_pages"]) == mem("mem_free") / 4096)

        let cpus = 1 + Int(seed % 4)
        for item in ["user", "system", "idle", "iowait", "steal"] {
            let total = value(families, "kata_guest_cpu_time", ["cpu": "total", "item": item])
            let sum = (0..<cpus).reduce(0.0) {
                $0 + (value(families, "kata_guest_cpu_time", ["cpu": String($1), "item": item]) ?? .nan)
            }
            #expect(total == sum, "\(item)")
        }
        #expect(value(families, "kata_guest_cpu_time", ["cpu": String(cpus), "item": "user"]) == nil)

        let status = flavor == .go ? "kata_hypervisor_proc_status" : "kata_shim_proc_status"
        let rss = try #require(value(families, status, ["item": "vmrss"]))
        let parts = ["rssanon", "rssfile", "rssshmem"].reduce(0.0) {
            $0 + (value(families, status, ["item": $1]) ?? .nan)
        }
        #expect(rss == parts)
        #expect(try #require(value(families, status, ["item": "vmhwm"])) >= rss)
        #expect(
            try #require(value(families, status, ["item": "vmpeak"])) >= value(families, status, ["item": "vmsize"])!)

        if flavor == .go {
            let scrapes = try #require(value(families, "kata_agent_scrape_count", [:]))
            let getMetrics = value(
                families, "kata_shim_agent_rpc_durations_histogram_milliseconds_count",
                ["action": "grpc.GetMetricsRequest"])
            #expect(getMetrics == scrapes - 1)
            func go(_ name: String) -> Double { value(families, "go_memstats_" + name, [:]) ?? .nan }
            #expect(
                go("sys_bytes")
                    == [
                        "heap_sys_bytes", "stack_sys_bytes", "mspan_sys_bytes", "mcache_sys_bytes",
                        "buck_hash_sys_bytes", "gc_sys_bytes", "other_sys_bytes",
                    ].reduce(0.0) { $0 + go($1) })
            #expect(go("heap_idle_bytes") + go("heap_inuse_bytes") == go("heap_sys_bytes"))
            #expect(go("mallocs_total") - go("frees_total") == go("heap_objects"))
            #expect(value(families, "process_open_fds", [:]) == value(families, "kata_shim_fds", [:]))
        }
    }
}

@Test(arguments: ShimFlavor.allCases)
func simulatedShimBodyDependsOnSeed(flavor: ShimFlavor) throws {
    let one = SimulatedShimBody(sandboxID: "sb1", flavor: flavor, seed: 1)
    let two = SimulatedShimBody(sandboxID: "sb1", flavor: flavor, seed: 2)
    #expect(one.render(elapsed: 30) == one.render(elapsed: 30))
    #expect(one.render(elapsed: 30) != two.render(elapsed: 30))
    #expect(one.render(elapsed: 30) != one.render(elapsed: 90))
    let first = try parse(one.render(elapsed: 30))
    let second = try parse(two.render(elapsed: 30))
    #expect(
        value(first, "kata_guest_meminfo", ["item": "mem_free"])
            != value(second, "kata_guest_meminfo", ["item": "mem_free"]))
    #expect(value(first, "kata_agent_total_rss", [:]) != value(second, "kata_agent_total_rss", [:]))
    #expect(one.agentURL == SimulatedShimBody(sandboxID: "sb1", flavor: flavor, seed: 1).agentURL)
}

@Test func simulatedShimBodyAgentURL() {
    let go = SimulatedShimBody(sandboxID: "abc", flavor: .go, seed: 9).agentURL
    #expect(go.hasPrefix("vsock://") && go.hasSuffix(":1024"))
    #expect(go != SimulatedShimBody(sandboxID: "abc", flavor: .go, seed: 10).agentURL)
    #expect(
        SimulatedShimBody(sandboxID: "abc", flavor: .rust, seed: 9).agentURL
            == "hvsock:///run/kata/abc/root/kata.hvsock:1024")
}

@Test func simulatedShimBodyNumberFormats() {
    // Go's FormatFloat(v, 'g', -1, 64) in the Go shim; Rust's `{}` (never an exponent) in runtime-rs.
    let go = String(
        decoding: SimulatedShimBody(sandboxID: "sb1", flavor: .go, seed: 3).render(elapsed: 60), as: UTF8.self)
    let rust = String(
        decoding: SimulatedShimBody(sandboxID: "sb1", flavor: .rust, seed: 3).render(elapsed: 60), as: UTF8.self)
    #expect(go.contains("kata_guest_meminfo{item=\"vmalloc_total\"} 3.5184372087808e+13\n"))
    #expect(go.contains("process_virtual_memory_max_bytes 1.8446744073709552e+19\n"))
    #expect(rust.contains("kata_guest_meminfo{item=\"vmalloc_total\"} 35184372087808\n"))
    #expect(!rust.contains("e+"))
    #expect(!rust.contains("e-"))
}

@Test(arguments: ShimFlavor.allCases)
func simulatedShimBodyConflictDeclaresThreadsCounter(flavor: ShimFlavor) throws {
    let body = SimulatedShimBody(sandboxID: "sb1", flavor: flavor, seed: 4)
    let conflict = try parse(body.conflictBody(elapsed: 30))
    let normal = try parse(body.render(elapsed: 30))
    #expect(family(conflict, "kata_shim_threads")?.type == .counter)
    #expect(family(normal, "kata_shim_threads")?.type == .gauge)
    #expect(conflict.count == normal.count)
}

@Test(arguments: ShimFlavor.allCases)
func simulatedShimBodyInjectIsEscaped(flavor: ShimFlavor) throws {
    let body = SimulatedShimBody(sandboxID: "sb1", flavor: flavor, seed: 4)
    let families = try parse(body.injectBody(elapsed: 30))
    let labels = families.flatMap(\.samples).flatMap(\.labels)
    #expect(labels.contains { $0.value.contains("\n") })
    #expect(labels.contains { $0.value.contains("\"") })
    #expect(labels.contains { $0.value.contains("\\") })
    #expect(labels.contains { $0.value == "evil\"} 9\nkata_pulse_fake 1" })
    #expect(labels.contains { $0.value == "\"} 1\n" })
    #expect(labels.contains { $0.name == "__x" })
    #expect(labels.contains { $0.name == "sandbox_id" && $0.value == "spoofed" })
    #expect(family(families, "kata_pulse_fake") == nil)
    let hostile = try #require(family(families, "kata_guest_hostile"))
    #expect(hostile.type == .gauge)
    #expect(families.count == (try parse(body.render(elapsed: 30))).count + 1)
}

@Test func simulatedShimBodyBomb() throws {
    let bytes = SimulatedShimBody.bombBody(series: 100_000)
    let families = try ExpositionParser(limits: ExpositionLimits(maxSeries: 200_000)).parse(bytes)
    #expect(families.count == 1)
    #expect(families.first?.name == "kata_guest_bomb")
    #expect(families.first?.samples.count == 100_000)
    #expect(families.first?.samples.last?.labels == [Label("n", "99999")])
    #expect(throws: ExpositionError.self) { try ExpositionParser().parse(bytes) }
}

@Test func simulatedShimBodyGarbage() {
    #expect(throws: ExpositionError.self) { try ExpositionParser().parse(SimulatedShimBody.garbageBody()) }
    do {
        _ = try ExpositionParser().parse(SimulatedShimBody.garbageBody())
    } catch {
        #expect(error.kind == .syntax)
    }
}

// MARK: - Ground truth

/// The guest's CPU usage in seconds as the agent derives it (Go-shim semantics): user + nice + system + irq +
/// softirq of the `total` row, in ms.
private func guestCPUUsageSeconds(_ families: [MetricFamily]) throws -> Double {
    var millis = 0.0
    for item in ["user", "nice", "system", "irq", "softirq"] {
        millis += try #require(value(families, "kata_guest_cpu_time", ["cpu": "total", "item": item]))
    }
    return millis / 1000
}

/// cAdvisor's working set from guest meminfo: max(0, (mem_total − mem_free) − inactive_file).
private func guestWorkingSet(_ families: [MetricFamily]) throws -> Double {
    let total = try #require(value(families, "kata_guest_meminfo", ["item": "mem_total"]))
    let free = try #require(value(families, "kata_guest_meminfo", ["item": "mem_free"]))
    let inactiveFile = try #require(value(families, "kata_guest_meminfo", ["item": "inactive_file"]))
    return max(0, (total - free) - inactiveFile)
}

/// One netdev item summed over the guest's interfaces but `lo`.
private func guestNetwork(_ families: [MetricFamily], _ item: String) throws -> Double {
    let netdev = try #require(family(families, "kata_guest_netdev_stat"))
    var sum = 0.0
    var interfaces = 0
    for sample in netdev.samples {
        let labels = Dictionary(uniqueKeysWithValues: sample.labels.map { ($0.name, $0.value) })
        guard labels["item"] == item, let interface = labels["interface"], interface != "lo" else { continue }
        sum += sample.value
        interfaces += 1
    }
    #expect(interfaces > 0)
    return sum
}

private func relativeError(_ actual: Double, _ expected: Double) -> Double {
    abs(actual - expected) / abs(expected)
}

/// The three body kinds that carry guest families.
private func bodies(_ body: SimulatedShimBody, elapsed: Double) -> [(String, [UInt8])] {
    [
        ("render", body.render(elapsed: elapsed)), ("conflict", body.conflictBody(elapsed: elapsed)),
        ("inject", body.injectBody(elapsed: elapsed)),
    ]
}

@Test(arguments: ShimFlavor.allCases)
func simulatedShimBodyFollowsGroundTruth(flavor: ShimFlavor) throws {
    for seed: UInt64 in [0, 1, 2, 3, 4, 7, 42, 0xDEAD_BEEF] {
        let body = SimulatedShimBody(sandboxID: "sb1", flavor: flavor, seed: seed)
        let truth = body.groundTruth
        for ((kind, early), (_, late)) in zip(bodies(body, elapsed: 100), bodies(body, elapsed: 160)) {
            let before = try parse(early)
            let after = try parse(late)
            let context = "seed \(seed) \(kind)"

            let cores = (try guestCPUUsageSeconds(after) - guestCPUUsageSeconds(before)) / 60
            #expect(relativeError(cores, truth.cpuCores) < 1e-6, "\(context): \(cores) cores")

            #expect(try guestWorkingSet(before) == truth.workingSetBytes, "\(context)")
            #expect(try guestWorkingSet(after) == truth.workingSetBytes, "\(context)")

            let receive = (try guestNetwork(after, "recv_bytes") - guestNetwork(before, "recv_bytes")) / 60
            #expect(relativeError(receive, truth.networkReceiveBytesPerSecond) < 1e-3, "\(context): \(receive) B/s")
            let transmit = (try guestNetwork(after, "sent_bytes") - guestNetwork(before, "sent_bytes")) / 60
            #expect(
                relativeError(transmit, truth.networkTransmitBytesPerSecond) < 1e-3, "\(context): \(transmit) B/s")
        }
    }
}

@Test(arguments: ShimFlavor.allCases)
func simulatedShimBodyWorkingSetHoldsAtAllTimes(flavor: ShimFlavor) throws {
    for seed: UInt64 in 0..<8 {
        let body = SimulatedShimBody(sandboxID: "sb1", flavor: flavor, seed: seed)
        for elapsed in [0.0, 0.5, 7.25, 100, 160, 901.5, 3_600, 86_400] {
            let families = try parse(body.render(elapsed: elapsed))
            #expect(try guestWorkingSet(families) == body.groundTruth.workingSetBytes, "seed \(seed) at \(elapsed)")
            let free = try #require(value(families, "kata_guest_meminfo", ["item": "mem_free"]))
            #expect(free > 0)
            #expect(try #require(value(families, "kata_guest_meminfo", ["item": "anon_pages"])) > 20e6)
        }
    }
}

/// Guest CPU and network figures are gauges in the exposition but counters in the guest: they never go back,
/// even between renders a few milliseconds apart, and the per-CPU rows add up to `total`.
@Test(arguments: ShimFlavor.allCases)
func simulatedShimBodyGuestCountersDoNotDecrease(flavor: ShimFlavor) throws {
    func counters(_ families: [MetricFamily]) -> [String: Double] {
        var values: [String: Double] = [:]
        for name in ["kata_guest_cpu_time", "kata_guest_netdev_stat"] {
            for sample in family(families, name)?.samples ?? [] { values[seriesKey(sample)] = sample.value }
        }
        return values
    }
    for seed: UInt64 in 0..<4 {
        let body = SimulatedShimBody(sandboxID: "sb1", flavor: flavor, seed: seed)
        // Renders a few ms apart around 100 s (ticks are 10 ms), around boot, and far apart.
        var times: [Double] = (0..<12).map { 0.15 * Double($0) }
        times += (0..<36).map { 99 + Double($0) * 0.0037 }
        times += [600, 3_600]
        var previous: [String: Double] = [:]
        for elapsed in times {
            let families = try parse(body.render(elapsed: elapsed))
            let current = counters(families)
            for (key, before) in previous {
                let after = try #require(current[key])
                #expect(after >= before, "seed \(seed) at \(elapsed): \(key) went from \(before) to \(after)")
            }
            previous = current

            // Rows by cpu label, then item.
            var rows: [String: [String: Double]] = [:]
            for sample in family(families, "kata_guest_cpu_time")?.samples ?? [] {
                let labels = Dictionary(uniqueKeysWithValues: sample.labels.map { ($0.name, $0.value) })
                rows[labels["cpu"] ?? "", default: [:]][labels["item"] ?? ""] = sample.value
            }
            let cpus = 1 + Int(seed % 4)
            #expect(rows.count == cpus + 1)
            for item in SimulatedShimBody.Tables.cpuTime.names {
                let sum = (0..<cpus).reduce(0.0) { $0 + (rows[String($1)]?[item] ?? .nan) }
                #expect(rows["total"]?[item] == sum, "seed \(seed) at \(elapsed): \(item)")
            }
        }
    }
}

@Test func simulatedShimBodyGroundTruthRanges() {
    var truths: [SimulatedGroundTruth] = []
    for seed: UInt64 in 0..<64 {
        let body = SimulatedShimBody(sandboxID: "sb1", flavor: .go, seed: seed)
        let truth = body.groundTruth
        #expect(truth == SimulatedShimBody(sandboxID: "other", flavor: .rust, seed: seed).groundTruth)
        #expect((0.05...1.5).contains(truth.cpuCores) && truth.cpuCores < Double(body.guestCPUs), "seed \(seed)")
        #expect((truth.cpuCores * 100).rounded() / 100 == truth.cpuCores)
        #expect((100 * 1_048_576...1_536 * 1_048_576).contains(truth.workingSetBytes), "seed \(seed)")
        #expect(truth.workingSetBytes.truncatingRemainder(dividingBy: 1_048_576) == 0)
        #expect((10_000...5_000_000).contains(truth.networkReceiveBytesPerSecond), "seed \(seed)")
        #expect(truth.networkTransmitBytesPerSecond > 0)
        #expect(truth.networkTransmitBytesPerSecond != truth.networkReceiveBytesPerSecond)
        truths.append(truth)
    }
    // Different seeds, different sandboxes: no two truths are equal, and the figures spread out.
    for (index, truth) in truths.enumerated() {
        #expect(!truths[(index + 1)...].contains(truth), "seed \(index)")
    }
    #expect(Set(truths.map(\.cpuCores)).count >= 30)
    #expect(Set(truths.map(\.workingSetBytes)).count >= 60)
    #expect(Set(truths.map(\.networkReceiveBytesPerSecond)).count >= 60)
    #expect(truths.contains { $0.networkTransmitBytesPerSecond > $0.networkReceiveBytesPerSecond })
    #expect(truths.contains { $0.networkTransmitBytesPerSecond < $0.networkReceiveBytesPerSecond })
}

/// The table in `groundTruth`'s documentation, which the README cites.
@Test func simulatedShimBodyDocumentedGroundTruth() {
    let documented: [(UInt64, Double, Double, Double, Double)] = [
        (1, 0.06, 951, 88_500, 191_000),
        (2, 0.37, 246, 15_300, 6_250),
        (3, 0.16, 867, 129_000, 358_000),
        (4, 0.05, 990, 2_510_000, 605_000),
        (5, 0.10, 1297, 19_300, 57_500),
    ]
    for (seed, cores, mebibytes, receive, transmit) in documented {
        let truth = SimulatedShimBody(sandboxID: "sb1", flavor: .go, seed: seed).groundTruth
        #expect(
            truth
                == SimulatedGroundTruth(
                    cpuCores: cores, workingSetBytes: mebibytes * 1_048_576, networkReceiveBytesPerSecond: receive,
                    networkTransmitBytesPerSecond: transmit), "seed \(seed)")
    }
}
