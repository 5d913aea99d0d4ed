import KataPulse

/// Which shim implementation a simulated sandbox imitates.
public enum ShimFlavor: String, Sendable, CaseIterable {
    /// The Go `containerd-shim-kata-v2` with QEMU and virtiofsd: its own registry (sorted), then the agent's
    /// families re-encoded by Go.
    case go
    /// The runtime-rs shim with the built-in Dragonball VMM: the agent, hypervisor and shim texts concatenated
    /// as Rust's `prometheus` crate wrote them.
    case rust
}

/// Generates bodies a Kata shim's /metrics would return.
///
/// Every value is a pure function of `(seed, elapsed)`, so a simulated shim needs no state and two renders at the
/// same instant are identical. Names, HELP strings, label names, `item` values and units follow the kata-containers
/// sources (see `shim-metrics.md`); numbers are invented but self-consistent where a reader would check (meminfo
/// adds up, CPU totals are sums, histograms are cumulative, counters only grow).
///
/// The guest families follow a ``SimulatedGroundTruth`` exactly (see ``groundTruth``): CPU usage, working set and
/// network traffic that an end-to-end test can expect to find again in the cAdvisor series derived from them.
public struct SimulatedShimBody: Sendable {
    /// The sandbox this body belongs to; like a real body, it shows only in the agent URL.
    public let sandboxID: String
    /// Which shim this body imitates.
    public let flavor: ShimFlavor
    /// Chooses every invented number; two seeds give two different sandboxes.
    public let seed: UInt64

    /// Creates the generator; nothing is computed until a body is asked for.
    public init(sandboxID: String, flavor: ShimFlavor, seed: UInt64) {
        self.sandboxID = sandboxID
        self.flavor = flavor
        self.seed = seed
    }

    /// Guest vCPUs (1 to 4), so that the per-CPU families differ in size between sandboxes.
    var guestCPUs: Int { 1 + Int(seed % 4) }

    /// The body at `elapsed` seconds after the shim started. Counters only grow with time; gauges wander; values differ per seed.
    public func render(elapsed: Double) -> [UInt8] {
        body(elapsed: elapsed, fault: .none)
    }

    /// The normal body, but `kata_shim_threads` (a gauge in every other sandbox) is declared a counter.
    public func conflictBody(elapsed: Double) -> [UInt8] {
        body(elapsed: elapsed, fault: .conflict)
    }

    /// The normal body plus a gauge family `kata_guest_hostile` whose label values try to break out of their
    /// quotes (`"`, `\`, newlines, `"} 1\n`, a fake `kata_pulse_fake` line), one label named `__x` and one
    /// spoofed `sandbox_id`.
    ///
    /// The values are correctly escaped: a hostile guest controls label values, not the shim's encoder, so the
    /// body is a valid exposition and the danger lies in how a consumer re-renders it.
    public func injectBody(elapsed: Double) -> [UInt8] {
        body(elapsed: elapsed, fault: .inject)
    }

    /// The normal body plus a family `kata_guest_repeated` whose one series is written twice and a family
    /// `kata_pulse_sandbox_up` claiming to be the agent's own: what a buggy or hostile shim can send, and
    /// relabelling must drop.
    public func duplicateBody(elapsed: Double) -> [UInt8] {
        body(elapsed: elapsed, fault: .duplicate)
    }

    /// `series` samples of one gauge family `kata_guest_bomb{n="i"}`: a guest flooding its scraper.
    public static func bombBody(series: Int) -> [UInt8] {
        let count = max(0, series)
        var out: [UInt8] = []
        out.reserveCapacity(128 + count * 30)
        ExpositionRenderer.appendHeader(
            name: "kata_guest_bomb", help: "One family with far too many series.", type: .gauge, to: &out)
        for index in 0..<count {
            out.append(contentsOf: "kata_guest_bomb{n=\"".utf8)
            appendDecimal(index, to: &out)
            out.append(contentsOf: "\"} 1\n".utf8)
        }
        return out
    }

    /// Bytes that are not text format: a gzip magic number and binary junk, then lines that only look like metrics.
    public static func garbageBody() -> [UInt8] {
        // A compressed body sent without Content-Encoding, NUL, invalid UTF-8 and an ANSI escape.
        var out: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0x00, 0xFF, 0xFE, 0xC3, 0x28, 0x1B, 0x5B, 0x32, 0x4A, 0x0A]
        out.append(contentsOf: "this is not { a metric\n".utf8)
        out.append(contentsOf: "kata_guest_load{item=\"load1\" 0.5\n".utf8)
        out.append(contentsOf: "# TYPE kata_guest_load histogramm\n".utf8)
        return out
    }

    /// The agent URL the shim reports on /agent-url, e.g. "vsock://<cid>:1024" (go) or "hvsock:///run/kata/<id>/root/kata.hvsock:1024" (rust); deterministic per seed.
    public var agentURL: String {
        switch flavor {
        case .go:
            // QEMU picks a random free guest CID at or above 3.
            let cid = 3 + Dynamics(seed: seed, t: 0).bits("vsock.cid", 0) % (UInt64(UInt32.max) - 3)
            return "vsock://\(cid):1024"
        case .rust:
            // Dragonball is a hybrid-vsock VMM: the agent is reached through a UDS in the sandbox directory.
            return "hvsock:///run/kata/\(sandboxID)/root/kata.hvsock:1024"
        }
    }
}

/// What a simulated sandbox's guest does, exactly: the rates and levels its body is built from.
///
/// The agent derives cAdvisor series from the guest families, and a body meets these figures exactly in them:
/// - CPU: user + nice + system + irq + softirq of `kata_guest_cpu_time{cpu="total"}` (in ms) grows by
///   `cpuCores × 1000` per second, from the guest's boot (under 1.2 s after the shim started) on. The
///   figures are whole 10 ms ticks, and since `cpuCores` has two decimals the growth over a whole number of
///   seconds is exact. guest and guest_nice are 0; idle, iowait and steal are not usage.
/// - Memory: `(mem_total − mem_free) − inactive_file` of `kata_guest_meminfo` equals `workingSetBytes` at
///   every instant, while its parts (anon, page cache, slab…) wander.
/// - Network: `recv_bytes` of `kata_guest_netdev_stat` summed over the interfaces but `lo` (there is one,
///   `eth0`) grows by exactly `networkReceiveBytesPerSecond` per second from a small start; `sent_bytes`
///   likewise by `networkTransmitBytesPerSecond`.
///
/// So `rate(container_cpu_usage_seconds_total[1m])` is `cpuCores`, `container_memory_working_set_bytes` is
/// `workingSetBytes` and `rate(container_network_receive_bytes_total[1m])` is `networkReceiveBytesPerSecond`.
/// The Go shim's host-side `kata_hypervisor_netdev` counts a few packets more (drops on tap0_kata), and the
/// VMM's user time includes the guest's usage.
public struct SimulatedGroundTruth: Sendable, Equatable {
    /// CPU the guest uses, in cores (usage seconds per second).
    public var cpuCores: Double
    /// The guest's working set, in bytes (cAdvisor's definition: usage − inactive_file).
    public var workingSetBytes: Double
    /// Bytes per second received on the guest's non-loopback interfaces (sum).
    public var networkReceiveBytesPerSecond: Double
    /// Bytes per second transmitted on the guest's non-loopback interfaces (sum).
    public var networkTransmitBytesPerSecond: Double
}

extension SimulatedShimBody {
    /// The figures this sandbox's guest follows, a pure function of the seed (`guestCPUs` is `1 + seed % 4`);
    /// each comes from its own hash of the seed, spread evenly on a log scale, then rounded to be easy to cite:
    /// - `cpuCores`: 0.05 to `min(1.5, 0.6 × vCPUs)` cores (0.6 with one vCPU, 1.2 with two, 1.5 with three
    ///   or four), to two decimals.
    /// - `workingSetBytes`: 100 to 1536 MiB, in whole MiB.
    /// - `networkReceiveBytesPerSecond`: 10 kB/s to 5 MB/s, to three significant digits.
    /// - `networkTransmitBytesPerSecond`: the receive rate × 0.15 to 0.6 (a client) or, for one seed in
    ///   three, × 1.6 to 3 (a server), to three significant digits; never equal to the receive rate.
    ///
    /// The default `simulate`/`demo` sandboxes get seeds 1, 2, 3…:
    ///
    /// | seed | vCPUs | cpuCores | workingSetBytes | receive B/s | transmit B/s |
    /// |------|-------|----------|-----------------|-------------|--------------|
    /// |    1 |     2 |     0.06 | 951 MiB         |      88,500 |      191,000 |
    /// |    2 |     3 |     0.37 | 246 MiB         |      15,300 |        6,250 |
    /// |    3 |     4 |     0.16 | 867 MiB         |     129,000 |      358,000 |
    /// |    4 |     1 |     0.05 | 990 MiB         |   2,510,000 |      605,000 |
    /// |    5 |     2 |     0.10 | 1297 MiB        |      19,300 |       57,500 |
    public var groundTruth: SimulatedGroundTruth { Self.truth(Dynamics(seed: seed, t: 0), cpus: guestCPUs) }

    static func truth(_ d: Dynamics, cpus: Int) -> SimulatedGroundTruth {
        let cores = d.logPick("truth.cpu", 0.05, min(1.5, 0.6 * Double(cpus)))
        let mebibytes = d.logPick("truth.memory", 100, 1536)
        let receive = significant3(d.logPick("truth.rx", 10_000, 5_000_000))
        let server = d.bits("truth.tx", 0) % 3 == 0
        let ratio = server ? d.pick("truth.tx", 1.6, 3, 1) : d.pick("truth.tx", 0.15, 0.6, 1)
        return SimulatedGroundTruth(
            cpuCores: (cores * 100).rounded() / 100, workingSetBytes: mebibytes.rounded() * 1_048_576,
            networkReceiveBytesPerSecond: receive, networkTransmitBytesPerSecond: significant3(receive * ratio))
    }

    /// Rounds a value of at least 100 to three significant digits; the result is a whole number.
    static func significant3(_ value: Double) -> Double {
        var scale = 1.0
        while value / scale >= 1_000 { scale *= 10 }
        return (value / scale).rounded() * scale
    }
}

// MARK: - Building a body

extension SimulatedShimBody {
    /// What a body deviates in, for the simulator's fault modes.
    enum BodyFault {
        case none
        case conflict
        case inject
        case duplicate
    }

    func body(elapsed: Double, fault: BodyFault) -> [UInt8] {
        let time = elapsed.isFinite ? max(0, elapsed) : 0
        let dynamics = Dynamics(seed: seed, t: time)
        let guest = GuestState(dynamics, cpus: guestCPUs)
        var writer = Writer(rustNumbers: flavor == .rust, fault: fault, capacity: flavor == .go ? 80_000 : 32_000)
        switch flavor {
        case .go:
            writeGoShim(&writer, dynamics, guest)
            writeAgent(&writer, dynamics, guest, fault: fault)
        case .rust:
            writeAgent(&writer, dynamics, guest, fault: fault)
            writeDragonball(&writer, dynamics, guest)
            writeRustShim(&writer, dynamics, guest)
        }
        return writer.out
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 10 {
            out.append(UInt8(truncatingIfNeeded: 0x30 + max(0, value)))
            return
        }
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(truncatingIfNeeded: 0x30 + rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}

// MARK: - Randomness and time shapes

extension SimulatedShimBody {
    /// Seeded constants and time shapes for one render. A key names the quantity, so adding one never shifts
    /// the others.
    struct Dynamics {
        let seed: UInt64
        /// Seconds since the shim started.
        let t: Double

        func bits(_ key: StaticString, _ salt: Int) -> UInt64 {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            key.withUTF8Buffer { bytes in
                for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            }
            var generator = SplitMix64(state: seed ^ hash ^ (UInt64(truncatingIfNeeded: salt) &* 0xD6E8_FEB8_6659_FD93))
            return generator.next()
        }

        /// A per-seed constant in `[0, 1)`.
        func unit(_ key: StaticString, _ salt: Int = 0) -> Double {
            Double(bits(key, salt) >> 11) * 0x1p-53
        }

        /// A per-seed constant in `[low, high)`.
        func pick(_ key: StaticString, _ low: Double, _ high: Double, _ salt: Int = 0) -> Double {
            low + (high - low) * unit(key, salt)
        }

        /// A per-seed constant in `[low, high)`, spread evenly on a log scale: `low × (high / low)^u`.
        func logPick(_ key: StaticString, _ low: Double, _ high: Double, _ salt: Int = 0) -> Double {
            low * Self.power(high / low, unit(key, salt))
        }

        /// `base^exponent` for `base > 0` and `exponent` in `[0, 1)`, without Foundation: one square root per
        /// binary digit of the exponent (relative error near 1e-12, far below any rounding done afterwards).
        static func power(_ base: Double, _ exponent: Double) -> Double {
            var result = 1.0
            var root = base
            var rest = exponent
            for _ in 0..<42 where rest > 0 {
                root = root.squareRoot()
                rest *= 2
                if rest >= 1 {
                    result *= root
                    rest -= 1
                }
            }
            return result
        }

        /// A smooth wander in `[-1, 1]` with periods of about 40 s to 15 min; |slope| stays below 0.12/s.
        func wave(_ key: StaticString, _ salt: Int = 0) -> Double {
            let bits = bits(key, salt)
            let slow = 120 + Double(bits & 0x3FF) / 1023 * 780
            let fast = 37 + Double((bits >> 10) & 0x3FF) / 1023 * 180
            let phase1 = Double((bits >> 20) & 0xFFFF) / 65_536
            let phase2 = Double((bits >> 36) & 0xFFFF) / 65_536
            return 0.7 * Self.bump(t / slow + phase1) + 0.3 * Self.bump(t / fast + phase2)
        }

        /// A slow wander in `[-1, 1]` (periods of 5 to 20 min; |slope| below 0.027/s), for gauges that other
        /// values are derived from and must not outrun.
        func drift(_ key: StaticString, _ salt: Int = 0) -> Double {
            let bits = bits(key, salt)
            let period = 300 + Double(bits & 0xFFFF) / 65_535 * 900
            return Self.bump(t / period + Double((bits >> 16) & 0xFFFF) / 65_536)
        }

        /// A counter: `base` at time 0, then growing at between 0.5 and 1.5 times `rate` per second, never
        /// backwards. `time` defaults to the render time.
        func grow(_ key: StaticString, _ salt: Int = 0, base: Double, rate: Double, at time: Double? = nil) -> Double {
            let x = time ?? t
            let bits = bits(key, salt)
            let period = 300 + Double(bits & 0xFFFF) / 65_535 * 900
            let phase = Double((bits >> 16) & 0xFFFF) / 65_536
            // bump' is at most 8 per period, so period/16 keeps the slope within 1 ± 0.5.
            let wobble = period / 16 * (Self.bump(x / period + phase) - Self.bump(phase))
            return base + rate * (x + wobble)
        }

        /// A periodic, C¹ stand-in for sin(2πx) without Foundation: a parabola per half period.
        static func bump(_ x: Double) -> Double {
            let fraction = x - x.rounded(.down)
            let u = 2 * fraction - 1
            return 4 * u * (1 - abs(u))
        }
    }

    /// Rounds down to whole 4 KiB pages, as every /proc memory figure is.
    static func pages(_ bytes: Double) -> Double { (max(0, bytes) / 4096).rounded(.down) * 4096 }
    static func pagesUp(_ bytes: Double) -> Double { (max(0, bytes) / 4096).rounded(.up) * 4096 }
    static func whole(_ value: Double) -> Double { max(0, value).rounded(.down) }
    static func nearest(_ value: Double) -> Double { max(0, value).rounded() }
}

// MARK: - Label tables

extension SimulatedShimBody {
    /// The values of one `item` label set, in the order registries emit them: sorted by label value bytes.
    struct ItemTable: Sendable {
        let names: [String]
        let encoded: [[UInt8]]
        let emitOrder: [Int]
        let index: [String: Int]

        init(_ names: [String]) {
            self.names = names
            encoded = names.map { Array($0.utf8) }
            let bytes = encoded
            emitOrder = names.indices.sorted { bytes[$0].lexicographicallyPrecedes(bytes[$1]) }
            index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        }
    }

    /// Values for one table, set by item name; unset items stay 0, as procfs readers report missing fields.
    struct ItemValues {
        let table: ItemTable
        var values: [Double]

        init(_ table: ItemTable) {
            self.table = table
            values = Array(repeating: 0, count: table.names.count)
        }

        subscript(_ name: String) -> Double {
            get { values[table.index[name]!] }
            set { values[table.index[name]!] = newValue }
        }
    }

    enum Tables {
        static let procStatusGo = ItemTable([
            "vmpeak", "vmsize", "vmlck", "vmpin", "vmhwm", "vmrss", "rssanon", "rssfile", "rssshmem", "vmdata",
            "vmstk", "vmexe", "vmlib", "vmpte", "vmpmd", "vmswap", "hugetlbpages", "voluntary_ctxt_switches",
            "nonvoluntary_ctxt_switches",
        ])
        /// Rust `procfs` has no `vmpmd` and reports KiB.
        static let procStatusRust = ItemTable([
            "vmpeak", "vmsize", "vmlck", "vmpin", "vmhwm", "vmrss", "rssanon", "rssfile", "rssshmem", "vmdata",
            "vmstk", "vmexe", "vmlib", "vmpte", "vmswap", "hugetlbpages", "voluntary_ctxt_switches",
            "nonvoluntary_ctxt_switches",
        ])
        static let procStat = ItemTable(["utime", "stime", "cutime", "cstime"])
        static let ioStatGo = ItemTable([
            "rchar", "wchar", "syscr", "syscw", "readbytes", "writebytes", "cancelledwritebytes",
        ])
        static let ioStatRust = ItemTable([
            "rchar", "wchar", "syscr", "syscw", "read_bytes", "write_bytes", "cancelled_write_bytes",
        ])
        static let netdev = ItemTable([
            "recv_bytes", "recv_packets", "recv_errs", "recv_drop", "recv_fifo", "recv_frame", "recv_compressed",
            "recv_multicast", "sent_bytes", "sent_packets", "sent_errs", "sent_drop", "sent_fifo", "sent_colls",
            "sent_carrier", "sent_compressed",
        ])
        static let cpuTime = ItemTable([
            "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice",
        ])
        static let diskstat = ItemTable([
            "reads", "merged", "sectors_read", "time_reading", "writes", "writes_merged", "sectors_written",
            "time_writing", "in_progress", "time_in_progress", "weighted_time_in_progress", "discards",
            "discards_merged", "sectors_discarded", "time_discarding", "flushes", "time_flushing",
        ])
        static let meminfo = ItemTable([
            "mem_total", "mem_free", "mem_available", "buffers", "cached", "swap_cached", "active", "inactive",
            "active_anon", "inactive_anon", "active_file", "inactive_file", "unevictable", "mlocked", "high_total",
            "high_free", "low_total", "low_free", "mmap_copy", "swap_total", "swap_free", "dirty", "writeback",
            "anon_pages", "mapped", "shmem", "slab", "s_reclaimable", "s_unreclaim", "kernel_stack", "page_tables",
            "quicklists", "nfs_unstable", "bounce", "writeback_tmp", "commit_limit", "committed_as", "vmalloc_total",
            "vmalloc_used", "vmalloc_chunk", "hardware_corrupted", "anon_hugepages", "shmem_hugepages",
            "shmem_pmd_mapped", "cma_total", "cma_free", "hugepages_total", "hugepages_free", "hugepages_rsvd",
            "hugepages_surp", "hugepagesize", "direct_map_4k", "direct_map_4M", "direct_map_2M", "direct_map_1G",
            "hugetlb", "per_cpu", "k_reclaimable",
        ])
        /// The /proc/vmstat keys of a 5.x guest kernel built for Kata (no NUMA, no swap).
        static let vmstat = ItemTable([
            "allocstall_dma", "allocstall_dma32", "allocstall_movable", "allocstall_normal", "balloon_deflate",
            "balloon_inflate", "compact_daemon_free_scanned", "compact_daemon_migrate_scanned", "compact_daemon_wake",
            "compact_fail", "compact_free_scanned", "compact_isolated", "compact_migrate_scanned", "compact_stall",
            "compact_success", "drop_pagecache", "drop_slab", "htlb_buddy_alloc_fail", "htlb_buddy_alloc_success",
            "kswapd_high_wmark_hit_quickly", "kswapd_inodesteal", "kswapd_low_wmark_hit_quickly", "nr_active_anon",
            "nr_active_file", "nr_anon_pages", "nr_anon_transparent_hugepages", "nr_bounce", "nr_dirtied", "nr_dirty",
            "nr_dirty_background_threshold", "nr_dirty_threshold", "nr_file_pages", "nr_free_cma", "nr_free_pages",
            "nr_inactive_anon", "nr_inactive_file", "nr_isolated_anon", "nr_isolated_file", "nr_kernel_stack",
            "nr_mapped", "nr_mlock", "nr_page_table_pages", "nr_shmem", "nr_shmem_hugepages", "nr_shmem_pmdmapped",
            "nr_slab_reclaimable", "nr_slab_unreclaimable", "nr_unevictable", "nr_unstable",
            "nr_vmscan_immediate_reclaim", "nr_vmscan_write", "nr_writeback", "nr_writeback_temp", "nr_written",
            "nr_zone_active_anon", "nr_zone_active_file", "nr_zone_inactive_anon", "nr_zone_inactive_file",
            "nr_zone_unevictable", "nr_zone_write_pending", "oom_kill", "pageoutrun", "pgactivate", "pgalloc_dma",
            "pgalloc_dma32", "pgalloc_movable", "pgalloc_normal", "pgdeactivate", "pgfault", "pgfree", "pginodesteal",
            "pglazyfree", "pglazyfreed", "pgmajfault", "pgmigrate_fail", "pgmigrate_success", "pgpgin", "pgpgout",
            "pgrefill", "pgrotated", "pgscan_direct", "pgscan_direct_throttle", "pgscan_kswapd", "pgskip_dma",
            "pgskip_dma32", "pgskip_movable", "pgskip_normal", "pgsteal_direct", "pgsteal_kswapd", "pswpin",
            "pswpout", "slabs_scanned", "swap_ra", "swap_ra_hit", "unevictable_pgs_cleared", "unevictable_pgs_culled",
            "unevictable_pgs_mlocked", "unevictable_pgs_munlocked", "unevictable_pgs_rescued",
            "unevictable_pgs_scanned", "unevictable_pgs_stranded", "workingset_activate", "workingset_nodereclaim",
            "workingset_refault",
        ])
        static let load = ItemTable(["load1", "load5", "load15"])
        static let tasks = ItemTable(["cur", "max"])
        static let vcpu = ItemTable([
            "exit_io_in", "exit_io_out", "exit_mmio_read", "exit_mmio_write", "failures", "filter_cpuid",
        ])
        static let seccomp = ItemTable(["num_faults"])
        static let signals = ItemTable(["sigbus", "sigsegv"])
        /// Go formats `le` with FormatFloat(…, 'g', -1, 64).
        static let bucketBounds = ["1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "+Inf"]
        static let quantiles = ["0", "0.25", "0.5", "0.75", "1"]
        static let cpuLabels = ["0", "1", "2", "3", "4", "5", "6", "7"]
    }
}

// MARK: - Writing

extension SimulatedShimBody {
    /// Appends HELP/TYPE headers and sample lines to one byte buffer.
    struct Writer {
        var out: [UInt8] = []
        /// runtime-rs bodies are written by Rust's `prometheus` crate, which prints f64 with `{}`: plain
        /// positional digits, never an exponent.
        let rustNumbers: Bool
        let fault: BodyFault

        init(rustNumbers: Bool, fault: BodyFault, capacity: Int) {
            self.rustNumbers = rustNumbers
            self.fault = fault
            out.reserveCapacity(capacity)
        }

        /// HELP texts here are constants without `\\` or newlines, so they are copied without escaping.
        mutating func header(_ name: String, _ help: String, _ type: MetricType) {
            assert(!help.utf8.contains(0x5C) && !help.utf8.contains(0x0A))
            let declared: MetricType = fault == .conflict && name == "kata_shim_threads" ? .counter : type
            out.append(contentsOf: "# HELP ".utf8)
            out.append(contentsOf: name.utf8)
            out.append(0x20)
            out.append(contentsOf: help.utf8)
            out.append(contentsOf: "\n# TYPE ".utf8)
            out.append(contentsOf: name.utf8)
            out.append(0x20)
            out.append(contentsOf: declared.rawValue.utf8)
            out.append(0x0A)
        }

        /// Appends ` value\n`.
        mutating func value(_ value: Double) {
            out.append(0x20)
            if rustNumbers {
                Self.appendRustNumber(value, to: &out)
            } else {
                ExpositionRenderer.appendValue(value, to: &out)
            }
            out.append(0x0A)
        }

        mutating func label(_ name: String, _ value: String, first: Bool) {
            out.append(first ? 0x7B : 0x2C)
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: "=\"".utf8)
            ExpositionRenderer.appendEscaped(value, quotes: true, to: &out)
            out.append(0x22)
        }

        mutating func sample(_ name: String, _ value: Double) {
            out.append(contentsOf: name.utf8)
            self.value(value)
        }

        mutating func sample(_ name: String, _ label: String, _ labelValue: String, _ value: Double) {
            out.append(contentsOf: name.utf8)
            self.label(label, labelValue, first: true)
            out.append(0x7D)
            self.value(value)
        }

        /// A single-sample gauge family.
        mutating func single(_ name: String, _ help: String, _ value: Double) {
            single(name, help, .gauge, value)
        }

        /// A single-sample family.
        mutating func single(_ name: String, _ help: String, _ type: MetricType, _ value: Double) {
            header(name, help, type)
            sample(name, value)
        }

        /// Samples `name{[outer="…",]item="…"}` in emit order.
        mutating func items(_ name: String, _ values: ItemValues, outer: (label: String, value: String)? = nil) {
            let table = values.table
            for index in table.emitOrder {
                out.append(contentsOf: name.utf8)
                if let outer {
                    label(outer.label, outer.value, first: true)
                    out.append(contentsOf: ",item=\"".utf8)
                } else {
                    out.append(contentsOf: "{item=\"".utf8)
                }
                out.append(contentsOf: table.encoded[index])
                out.append(contentsOf: "\"}".utf8)
                value(values.values[index])
            }
        }

        /// A whole `item`-labelled family.
        mutating func itemFamily(_ name: String, _ help: String, _ values: ItemValues) {
            header(name, help, .gauge)
            items(name, values)
        }

        /// One histogram child: cumulative buckets 1…512 and +Inf, then `_sum` and `_count`.
        mutating func histogram(_ name: String, action: String, buckets: [Double], sum: Double, count: Double) {
            // The label part repeats on 13 lines: encode it once.
            var labels: [UInt8] = Array("{action=\"".utf8)
            ExpositionRenderer.appendEscaped(action, quotes: true, to: &labels)
            labels.append(0x22)
            for (bound, cumulative) in zip(Tables.bucketBounds, buckets) {
                out.append(contentsOf: name.utf8)
                out.append(contentsOf: "_bucket".utf8)
                out.append(contentsOf: labels)
                out.append(contentsOf: ",le=\"".utf8)
                out.append(contentsOf: bound.utf8)
                out.append(contentsOf: "\"}".utf8)
                value(cumulative)
            }
            labels.append(0x7D)
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: "_sum".utf8)
            out.append(contentsOf: labels)
            value(sum)
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: "_count".utf8)
            out.append(contentsOf: labels)
            value(count)
        }

        /// Rust's `Display` for f64: shortest round-trip digits written out in full (`0.000026911`,
        /// `18446744073709552000`).
        static func appendRustNumber(_ value: Double, to out: inout [UInt8]) {
            if !value.isFinite {
                out.append(contentsOf: (value.isNaN ? "NaN" : value < 0 ? "-Inf" : "+Inf").utf8)
            } else if value == value.rounded(.towardZero) && abs(value) < 1e15 {
                out.append(contentsOf: (value == 0 && value.sign == .minus ? "-0" : String(Int64(value))).utf8)
            } else {
                out.append(contentsOf: expandedDecimal(value.description).utf8)
            }
        }

        /// Swift's shortest round-trip spelling (`2.6911e-05`, `1.8446744073709552e+19`) without its exponent.
        static func expandedDecimal(_ shortest: String) -> String {
            let parts = shortest.split(separator: "e", maxSplits: 1)
            guard parts.count == 2, let exponent = Int(parts[1]) else { return shortest }
            var mantissa = Substring(parts[0])
            let sign = mantissa.hasPrefix("-") ? "-" : ""
            if !sign.isEmpty { mantissa = mantissa.dropFirst() }
            let pieces = mantissa.split(separator: ".", omittingEmptySubsequences: false)
            let whole = String(pieces[0])
            let fraction = pieces.count > 1 ? String(pieces[1]) : ""
            let digits = whole + fraction
            let point = whole.count + exponent
            if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
            if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) }
            return sign + digits.prefix(point) + "." + digits.dropFirst(point)
        }
    }
}

// MARK: - The guest, shared by several sections

extension SimulatedShimBody {
    /// Guest memory, CPU, network and RPC activity; the VMM's RSS and the host-side network counters are
    /// derived from the same numbers.
    struct GuestState {
        let cpus: Int
        let memoryMiB: Double
        let uptime: Double
        /// GetMetrics calls so far, the current one included (one scrape every 15 s).
        let scrapes: Double
        /// Container stats calls (kubelet), seen by the shim and the agent alike.
        let statsCalls: Double
        let meminfo: ItemValues
        /// Bytes the guest has touched now, and at most; the VMM's anonymous RSS follows it.
        let usedBytes: Double
        let usedBytesMax: Double
        let threads: Double
        /// The ground truth this guest is built from.
        let truth: SimulatedGroundTruth
        /// CPU time used (user + nice + system + irq + softirq) on all vCPUs since boot, in 10 ms ticks:
        /// exactly `cpuCores × 100` per second of uptime, rounded down.
        let usageTicks: Double
        /// The guest's eth0: bytes and packets received and sent. The receive and send byte counters grow
        /// exactly at the ground-truth rates.
        let rxBytes: Double
        let rxPackets: Double
        let txBytes: Double
        let txPackets: Double
        /// Packets the host side dropped before the guest saw them (tap0_kata's sent_drop); the host's eth0
        /// and tap0_kata count them, the guest does not.
        let drops: Double
        let loopBytes: Double
        let loopPackets: Double

        init(_ d: Dynamics, cpus: Int) {
            self.cpus = cpus
            let truth = SimulatedShimBody.truth(d, cpus: cpus)
            self.truth = truth
            let sizes: [Double] = [2048, 2048, 3072, 4096]
            memoryMiB = sizes[Int(d.bits("mem.size", 0) % 4)]
            uptime = max(0, d.t - d.pick("boot.lag", 0.4, 1.2))
            scrapes = 1 + (d.t / 15).rounded(.down)
            statsCalls = whole(d.grow("stats.calls", base: 0, rate: d.pick("stats.rate", 0.15, 0.25)))
            // cpuCores has two decimals, so the tick rate is a whole number and integer-second deltas are exact.
            usageTicks = ((truth.cpuCores * 100).rounded() * uptime).rounded(.down)

            // Memory, bottom-up so that it adds up: free = total - everything in use. The working set
            // (everything in use but inactive page cache) is the ground truth; anonymous memory makes up
            // whatever the other, wandering parts leave of it.
            let reservedKiB = 60_000 + memoryMiB * 11.5 + d.pick("mem.reserved", 0, 4_000)
            let totalKiB = ((memoryMiB * 1024 - reservedKiB) / 4).rounded(.down) * 4
            let total = totalKiB * 1024
            let workingSet = truth.workingSetBytes
            let shmem = pages(d.pick("mem.shmem", 2.2e6, 3.4e6))
            let activeFile = pages(
                workingSet * d.pick("mem.activefile", 0.1, 0.2) * (1 + 0.05 * d.wave("mem.activefile")))
            let inactiveFileBase = d.pick("mem.inactivefile", 30e6, 120e6)
            let inactiveFile = pages(inactiveFileBase * (1 + 0.1 * d.wave("mem.file")))
            let file = activeFile + inactiveFile
            let reclaimableBase = d.pick("mem.sreclaimable", 6e6, 10e6)
            let reclaimable = pages(reclaimableBase * (1 + 0.05 * d.wave("mem.sreclaimable")))
            let unreclaimableBase = d.pick("mem.sunreclaim", 12e6, 16e6)
            let unreclaimable = pages(unreclaimableBase * (1 + 0.02 * d.wave("mem.sunreclaim")))
            threads = nearest(d.pick("guest.threads", 100, 140) + 4 * d.wave("guest.threads"))
            let kernelStack = threads * 16_384
            let pageTables = pages(workingSet * d.pick("mem.pagetables", 0.012, 0.02))
            let perCPU = 589_824 * Double(cpus)
            let kernelOther = pages(d.pick("mem.kernel", 10e6, 16e6))
            // At least 100 MiB of working set against at most 75 MB of the rest: anon stays above 29 MB.
            // Every term is a whole number of pages, so the sums are exact.
            let anon =
                workingSet
                - (activeFile + shmem + reclaimable + unreclaimable + kernelStack + pageTables + perCPU + kernelOther)
            let used = workingSet + inactiveFile
            usedBytes = used
            usedBytesMax = workingSet + pagesUp(inactiveFileBase * 1.1)
            // At most 1.5 GiB + 132 MB in use in at least 1.9 GiB: free stays positive.
            let free = total - used
            let lowWatermark = pages(total * 0.02)
            let activeAnon = pages((anon + shmem) * d.pick("mem.activeanon", 0.02, 0.3))
            let directMap4k = 2_097_152 * (d.pick("mem.dm4k", 16, 27)).rounded(.down)

            var m = ItemValues(Tables.meminfo)
            m["mem_total"] = total
            m["mem_free"] = free
            m["mem_available"] = min(total, free + file + pages(reclaimable / 2) - lowWatermark)
            m["cached"] = file + shmem
            m["active"] = activeAnon + activeFile
            m["inactive"] = (anon + shmem - activeAnon) + (file - activeFile)
            m["active_anon"] = activeAnon
            m["inactive_anon"] = anon + shmem - activeAnon
            m["active_file"] = activeFile
            m["inactive_file"] = inactiveFile
            m["dirty"] = 4096 * nearest(2 * d.wave("mem.dirty"))
            m["anon_pages"] = anon
            m["mapped"] = pages((file + shmem) * d.pick("mem.mapped", 0.28, 0.36))
            m["shmem"] = shmem
            m["slab"] = reclaimable + unreclaimable
            m["s_reclaimable"] = reclaimable
            m["s_unreclaim"] = unreclaimable
            m["kernel_stack"] = kernelStack
            m["page_tables"] = pageTables
            m["commit_limit"] = (totalKiB / 2).rounded(.down) * 1024
            m["committed_as"] = pages(anon * d.pick("mem.committed", 2.8, 3.6))
            m["vmalloc_total"] = 35_184_372_087_808
            m["vmalloc_used"] = pages(d.pick("mem.vmalloc", 6e6, 8e6))
            m["hugepagesize"] = 2_097_152
            m["direct_map_4k"] = directMap4k
            m["direct_map_2M"] = memoryMiB * 1_048_576 - directMap4k
            m["per_cpu"] = perCPU
            m["k_reclaimable"] = reclaimable
            meminfo = m

            // The pod's traffic, at exactly the ground-truth rates from a little boot-time traffic on. Whole
            // bases and whole rates: the counters are exact integers at whole seconds.
            rxBytes = whole(
                d.pick("net.rx.base", 2e4, 6e4).rounded(.down) + truth.networkReceiveBytesPerSecond * d.t)
            txBytes = whole(
                d.pick("net.tx.base", 4e3, 9e3).rounded(.down) + truth.networkTransmitBytesPerSecond * d.t)
            // Bulk data travels in full-size frames, the other way mostly ACKs.
            let bigFrames = d.pick("net.frame.big", 1_300, 1_460)
            let smallFrames = d.pick("net.frame.small", 180, 230)
            let receiveHeavier = truth.networkReceiveBytesPerSecond > truth.networkTransmitBytesPerSecond
            rxPackets = whole(rxBytes / (receiveHeavier ? bigFrames : smallFrames))
            txPackets = whole(txBytes / (receiveHeavier ? smallFrames : bigFrames))
            drops = whole(d.grow("net.drop", base: 0, rate: d.pick("net.drop", 0, 0.006)))
            loopBytes = whole(
                d.grow("net.lo", base: d.pick("net.lo.base", 2_000, 9_000), rate: d.pick("net.lo", 0.5, 3)))
            loopPackets = whole(loopBytes / 84.7)
        }
    }

    /// The memory and activity profile of one process, in bytes; `procStatus` etc. derive /proc figures.
    struct ProcessShape {
        var key: StaticString
        var exe: Double
        var lib: Double
        var stack: Double = 135_168
        var pte: Double
        var data: Double
        /// Mappings that are neither data, code nor stack (Go arenas, guest RAM…).
        var other: Double
        var anon: Double
        var file: Double
        var shmem: Double = 0
        /// Extra anonymous memory that moves with the guest (the VMM maps guest RAM).
        var guestAnon: (now: Double, max: Double)? = nil
        /// Extra user time in ticks: the guest's CPU usage, run on the VMM's vCPU threads.
        var guestUtime: Double = 0
        var voluntaryRate: Double
        var nonvoluntaryRate: Double
        var utimeRate: Double
        var stimeRate: Double
        var cutime: Double = 0
        var cstime: Double = 0
        var readRate: Double
        var writeRate: Double
        var diskRead: Double = 0
        var diskWriteRate: Double = 0
        var diskWriteBase: Double = 0
        var fds: Double
        var threads: Double
    }
}

// MARK: - Process families

extension SimulatedShimBody {
    struct ProcessFigures {
        var status: ItemValues
        var stat: ItemValues
        var io: ItemValues
        var fds: Double
        var threads: Double
        var rssBytes: Double
        var sizeBytes: Double
    }

    /// `/proc/<pid>/{status,stat,io}` of one process. Go's procfs reports bytes; Rust's reports KiB.
    static func process(_ shape: ProcessShape, _ d: Dynamics, rust: Bool) -> ProcessFigures {
        let key = shape.key
        let scale = d.pick(key, 0.85, 1.2, 1)
        let anonBase = shape.anon * scale
        let anon = pages(anonBase * (1 + 0.08 * d.drift(key, 2)) + (shape.guestAnon?.now ?? 0))
        let file = pages(shape.file * scale * (1 + 0.02 * d.wave(key, 3)))
        let rss = anon + file + shape.shmem
        let hwm =
            pagesUp(anonBase * 1.08 + (shape.guestAnon?.max ?? 0)) + pagesUp(shape.file * scale * 1.02) + shape.shmem
        let dataBase = shape.data * d.pick(key, 0.95, 1.05, 4)
        let data = pages(dataBase + 0.01 * shape.data * d.wave(key, 5))
        let fixed = pages(shape.exe) + pages(shape.lib) + pages(shape.stack) + pages(shape.other)
        let size = fixed + data
        let peak = fixed + pagesUp(dataBase + 0.01 * shape.data)
        let unit: Double = rust ? 1024 : 1

        var status = ItemValues(rust ? Tables.procStatusRust : Tables.procStatusGo)
        status["vmpeak"] = peak / unit
        status["vmsize"] = size / unit
        status["vmhwm"] = max(hwm, rss) / unit
        status["vmrss"] = rss / unit
        status["rssanon"] = anon / unit
        status["rssfile"] = file / unit
        status["rssshmem"] = shape.shmem / unit
        status["vmdata"] = data / unit
        status["vmstk"] = pages(shape.stack) / unit
        status["vmexe"] = pages(shape.exe) / unit
        status["vmlib"] = pages(shape.lib) / unit
        status["vmpte"] = pages(shape.pte) / unit
        status["voluntary_ctxt_switches"] = whole(
            d.grow(key, 6, base: d.pick(key, 200, 3_000, 6), rate: shape.voluntaryRate * scale))
        status["nonvoluntary_ctxt_switches"] = whole(
            d.grow(key, 7, base: d.pick(key, 5, 60, 7), rate: shape.nonvoluntaryRate * scale))

        var stat = ItemValues(Tables.procStat)
        let utime = whole(
            d.grow(key, 8, base: d.pick(key, 10, 40, 8), rate: shape.utimeRate * scale) + shape.guestUtime)
        let stime = whole(d.grow(key, 9, base: d.pick(key, 10, 40, 9), rate: shape.stimeRate * scale))
        stat["utime"] = utime
        stat["stime"] = stime
        stat["cutime"] = shape.cutime
        stat["cstime"] = shape.cstime

        var io = ItemValues(rust ? Tables.ioStatRust : Tables.ioStatGo)
        let rchar = whole(d.grow(key, 10, base: d.pick(key, 1e5, 2e6, 10), rate: shape.readRate * scale))
        let wchar = whole(d.grow(key, 11, base: d.pick(key, 5e4, 1e6, 11), rate: shape.writeRate * scale))
        io["rchar"] = rchar
        io["wchar"] = wchar
        io["syscr"] = whole(rchar / d.pick(key, 300, 420, 12))
        io["syscw"] = whole(wchar / d.pick(key, 300, 400, 13))
        io[rust ? "read_bytes" : "readbytes"] = shape.diskRead
        io[rust ? "write_bytes" : "writebytes"] = pages(
            d.grow(key, 14, base: shape.diskWriteBase, rate: shape.diskWriteRate))

        return ProcessFigures(
            status: status, stat: stat, io: io,
            fds: nearest(shape.fds + 2 * d.wave(key, 15)),
            threads: nearest(shape.threads + 0.6 * d.wave(key, 16)),
            rssBytes: rss, sizeBytes: size)
    }

    static func goShimShape() -> ProcessShape {
        ProcessShape(
            key: "proc.shim.go", exe: 18_800_640, lib: 1_765_376, pte: 319_488, data: 1_417_469_952,
            other: 683_720_704, anon: 34_435_072, file: 21_651_456, voluntaryRate: 10, nonvoluntaryRate: 0.1,
            utimeRate: 0.25, stimeRate: 0.17, readRate: 13_000, writeRate: 7_500, diskWriteRate: 120, fds: 41,
            threads: 14)
    }

    static func qemuShape(_ d: Dynamics, _ guest: GuestState) -> ProcessShape {
        let overhead = d.pick("proc.qemu.overhead", 24e6, 36e6)
        let guestRAM = guest.memoryMiB * 1_048_576
        return ProcessShape(
            key: "proc.qemu", exe: 6_565_888, lib: 22_159_360, pte: pages(1e6 + guestRAM / 2048),
            data: guestRAM + 1_040_000_000, other: 520_000_000, anon: overhead, file: 38_973_440, shmem: 4096,
            guestAnon: (guest.usedBytes, guest.usedBytesMax), guestUtime: guest.usageTicks, voluntaryRate: 2,
            nonvoluntaryRate: 0.3, utimeRate: 1.4, stimeRate: 0.9, readRate: 54_000, writeRate: 9_500,
            diskRead: 61_440, diskWriteBase: 4096, fds: 118, threads: Double(5 + guest.cpus))
    }

    static func virtiofsdShape() -> ProcessShape {
        ProcessShape(
            key: "proc.virtiofsd", exe: 2_400_256, lib: 1_843_200, pte: 110_592, data: 102_309_888,
            other: 262_995_968, anon: 1_896_448, file: 4_014_080, voluntaryRate: 11, nonvoluntaryRate: 0.03,
            utimeRate: 0.02, stimeRate: 0.11, readRate: 24_000, writeRate: 4_000, diskRead: 81_920,
            diskWriteRate: 1_100, diskWriteBase: 1_048_576, fds: 36, threads: 3)
    }

    static func agentShape() -> ProcessShape {
        ProcessShape(
            key: "proc.agent", exe: 13_549_568, lib: 8_192, stack: 135_168, pte: 98_304, data: 74_096_640,
            other: 33_669_120, anon: 5_099_520, file: 8_572_928, voluntaryRate: 2.8, nonvoluntaryRate: 0.01,
            utimeRate: 0.018, stimeRate: 0.033, cutime: 1, cstime: 3, readRate: 880, writeRate: 367, fds: 24,
            threads: 6)
    }

    static func dragonballShimShape(_ d: Dynamics, _ guest: GuestState) -> ProcessShape {
        let guestRAM = guest.memoryMiB * 1_048_576
        return ProcessShape(
            key: "proc.shim.rust", exe: 45_056_000, lib: 3_686_400, pte: pages(1.1e6 + guestRAM / 2048),
            data: guestRAM + 700_000_000, other: 310_000_000, anon: d.pick("proc.shim.rust.overhead", 40e6, 56e6),
            file: 12_288_000, guestAnon: (guest.usedBytes, guest.usedBytesMax), guestUtime: guest.usageTicks,
            voluntaryRate: 9, nonvoluntaryRate: 0.4, utimeRate: 1.2, stimeRate: 0.8, readRate: 60_000,
            writeRate: 12_000, diskRead: 98_304, diskWriteRate: 200, fds: 60, threads: Double(12 + guest.cpus))
    }

    /// The three `kata_<who>_{fds,io_stat,proc_stat,proc_status,threads}` families, in name order.
    static func writeProcessFamilies(
        _ w: inout Writer, prefix: String,
        help: (fds: String, io: String, stat: String, status: String, threads: String),
        _ figures: ProcessFigures
    ) {
        w.single(prefix + "_fds", help.fds, figures.fds)
        w.itemFamily(prefix + "_io_stat", help.io, figures.io)
        w.itemFamily(prefix + "_proc_stat", help.stat, figures.stat)
        w.itemFamily(prefix + "_proc_status", help.status, figures.status)
        w.single(prefix + "_threads", help.threads, figures.threads)
    }
}

// MARK: - Go shim registry

extension SimulatedShimBody {
    /// One RPC action: how often it happened and how long it took (log2 of milliseconds).
    struct ActionSpec {
        var name: String
        var count: Double
        var log2Millis: Double
        var spread: Double
    }

    /// Cumulative bucket counts, sum and count for one action: a smoothstep CDF over log2(ms), so that buckets
    /// are cumulative, +Inf equals the count, and every figure only grows with the count.
    static func histogram(_ spec: ActionSpec, _ d: Dynamics, salt: Int) -> (buckets: [Double], sum: Double) {
        let center = spec.log2Millis + d.pick("rpc.shift", -0.3, 0.3, salt)
        let low = center - spec.spread
        var buckets: [Double] = []
        buckets.reserveCapacity(11)
        var mean = 0.0
        var previous = 0.0
        for bucket in 0..<10 {
            let x = min(1, max(0, (Double(bucket) - low) / (2 * spec.spread)))
            let cdf = x * x * (3 - 2 * x)
            // Truncated milliseconds: the first bucket holds 0 and 1; the others about ¾ of their bound.
            let representative = bucket == 0 ? 0.1 : 0.75 * Double(1 << bucket)
            mean += (cdf - previous) * representative
            previous = cdf
            buckets.append((spec.count * cdf).rounded(.down))
        }
        mean += (1 - previous) * 700
        buckets.append(spec.count)
        return (buckets, (spec.count * mean).rounded(.down))
    }

    func writeGoShim(_ w: inout Writer, _ d: Dynamics, _ guest: GuestState) {
        let shim = Self.process(Self.goShimShape(), d, rust: false)
        let qemu = Self.process(Self.qemuShape(d, guest), d, rust: false)
        let virtiofsd = Self.process(Self.virtiofsdShape(), d, rust: false)
        let startTime = (d.pick("process.start", 1.70e11, 1.73e11)).rounded(.down) / 100

        writeGoRuntime(&w, d, threads: shim.threads, startTime: startTime)

        // kata_hypervisor_*: QEMU's /proc, and its view of the pod network namespace.
        Self.writeProcessFamiliesGoHypervisor(&w, qemu, guest)

        // kata_shim_*
        w.header(
            "kata_shim_agent_rpc_durations_histogram_milliseconds", "RPC latency distributions.", .histogram)
        let copies = 2 + Double(d.bits("rpc.copyfile", 0) % 5)
        let agentActions = [
            ActionSpec(name: "grpc.AddARPNeighborsRequest", count: 1, log2Millis: -3, spread: 0.5),
            ActionSpec(name: "grpc.CheckRequest", count: 1, log2Millis: -3, spread: 0.5),
            ActionSpec(name: "grpc.CopyFileRequest", count: copies, log2Millis: 0, spread: 1),
            ActionSpec(name: "grpc.CreateContainerRequest", count: 2, log2Millis: 6.2, spread: 0.8),
            ActionSpec(name: "grpc.CreateSandboxRequest", count: 1, log2Millis: 4.4, spread: 0.3),
            ActionSpec(name: "grpc.GetMetricsRequest", count: guest.scrapes - 1, log2Millis: 1.3, spread: 1.4),
            ActionSpec(name: "grpc.GuestDetailsRequest", count: 1, log2Millis: 0, spread: 0.5),
            ActionSpec(name: "grpc.OnlineCPUMemRequest", count: 1, log2Millis: 2.5, spread: 0.6),
            ActionSpec(name: "grpc.StartContainerRequest", count: 2, log2Millis: 1.8, spread: 0.7),
            ActionSpec(name: "grpc.StatsContainerRequest", count: guest.statsCalls, log2Millis: 0.3, spread: 1),
            ActionSpec(name: "grpc.UpdateContainerRequest", count: 1, log2Millis: 1, spread: 0.5),
            ActionSpec(name: "grpc.UpdateInterfaceRequest", count: 1, log2Millis: 2.5, spread: 0.5),
            ActionSpec(name: "grpc.UpdateRoutesRequest", count: 1, log2Millis: 1, spread: 0.5),
        ]
        for (index, spec) in agentActions.enumerated() {
            let (buckets, sum) = Self.histogram(spec, d, salt: index)
            w.histogram(
                "kata_shim_agent_rpc_durations_histogram_milliseconds", action: spec.name, buckets: buckets, sum: sum,
                count: spec.count)
        }
        w.single("kata_shim_fds", "Kata containerd shim v2 open FDs.", shim.fds)
        w.itemFamily("kata_shim_io_stat", "Kata containerd shim v2 process IO statistics.", shim.io)
        w.single(
            "kata_shim_pod_overhead_cpu", "Kata Pod overhead for CPU resources(percent).",
            d.pick("overhead.cpu", 0.4, 1.6) * (1 + 0.3 * d.wave("overhead.cpu")))
        let containers = Self.pages(guest.meminfo["anon_pages"] * 0.6 + guest.meminfo["cached"] * 0.3)
        w.single(
            "kata_shim_pod_overhead_memory_in_bytes", "Kata Pod overhead for memory resources(bytes).",
            max(0, qemu.rssBytes + shim.rssBytes + virtiofsd.rssBytes - containers))
        w.itemFamily("kata_shim_proc_stat", "Kata containerd shim v2 process statistics.", shim.stat)
        w.itemFamily("kata_shim_proc_status", "Kata containerd shim v2 process status.", shim.status)
        w.header("kata_shim_rpc_durations_histogram_milliseconds", "RPC latency distributions.", .histogram)
        let shimActions = [
            ActionSpec(name: "connect", count: 2, log2Millis: -3, spread: 0.5),
            ActionSpec(name: "create", count: 2, log2Millis: 8.6, spread: 0.8),
            ActionSpec(name: "start", count: 2, log2Millis: 3.2, spread: 1),
            ActionSpec(
                name: "state", count: Self.whole(d.grow("rpc.state", base: d.pick("rpc.state", 4, 8), rate: 1.0 / 600)),
                log2Millis: -3, spread: 0.5),
            ActionSpec(name: "stats", count: guest.statsCalls, log2Millis: 0.5, spread: 1.2),
            ActionSpec(name: "update", count: 1, log2Millis: 1.5, spread: 0.5),
        ]
        for (index, spec) in shimActions.enumerated() {
            let (buckets, sum) = Self.histogram(spec, d, salt: 100 + index)
            w.histogram(
                "kata_shim_rpc_durations_histogram_milliseconds", action: spec.name, buckets: buckets, sum: sum,
                count: spec.count)
        }
        w.single("kata_shim_threads", "Kata containerd shim v2 process threads.", shim.threads)

        // kata_virtiofsd_*
        Self.writeProcessFamilies(
            &w, prefix: "kata_virtiofsd",
            help: (
                "Open FDs for virtiofsd.", "Process IO statistics.", "Virtiofsd process statistics.",
                "Virtiofsd process status.", "Virtiofsd process threads."
            ), virtiofsd)

        // process_*: the client_golang process collector reads the same /proc/self as kata_shim_*.
        w.single(
            "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", .counter,
            (shim.stat["utime"] + shim.stat["stime"]) / 100)
        w.single("process_max_fds", "Maximum number of open file descriptors.", 1_048_576)
        w.single("process_open_fds", "Number of open file descriptors.", shim.fds)
        w.single("process_resident_memory_bytes", "Resident memory size in bytes.", shim.rssBytes)
        w.single("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", startTime)
        w.single("process_virtual_memory_bytes", "Virtual memory size in bytes.", shim.sizeBytes)
        // RLIM_INFINITY as a uint64, converted to float64 by client_golang.
        w.single(
            "process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.",
            Double(UInt64.max))
    }

    static func writeProcessFamiliesGoHypervisor(_ w: inout Writer, _ qemu: ProcessFigures, _ guest: GuestState) {
        w.single("kata_hypervisor_fds", "Open FDs for hypervisor.", qemu.fds)
        w.itemFamily("kata_hypervisor_io_stat", "Process IO statistics.", qemu.io)
        w.header("kata_hypervisor_netdev", "Net devices statistics.", .gauge)
        // The host's view includes the packets tap0_kata dropped on their way into the guest.
        let hostRxBytes = guest.rxBytes + guest.drops * 1_100
        let hostRxPackets = guest.rxPackets + guest.drops
        var eth0 = ItemValues(Tables.netdev)
        eth0["recv_bytes"] = hostRxBytes
        eth0["recv_packets"] = hostRxPackets
        eth0["sent_bytes"] = guest.txBytes
        eth0["sent_packets"] = guest.txPackets
        w.items("kata_hypervisor_netdev", eth0, outer: ("interface", "eth0"))
        w.items("kata_hypervisor_netdev", ItemValues(Tables.netdev), outer: ("interface", "lo"))
        // tc mirrors eth0 and tap0_kata: what one receives the other sends.
        var tap = ItemValues(Tables.netdev)
        tap["recv_bytes"] = guest.txBytes
        tap["recv_packets"] = guest.txPackets
        tap["sent_bytes"] = hostRxBytes
        tap["sent_packets"] = hostRxPackets
        tap["sent_drop"] = guest.drops
        w.items("kata_hypervisor_netdev", tap, outer: ("interface", "tap0_kata"))
        w.itemFamily("kata_hypervisor_proc_stat", "Hypervisor process statistics.", qemu.stat)
        w.itemFamily("kata_hypervisor_proc_status", "Hypervisor process status.", qemu.status)
        w.single("kata_hypervisor_threads", "Hypervisor process threads.", qemu.threads)
    }

    /// `go_*` from client_golang's Go collector, consistent with itself (sys = Σ *_sys, frees = mallocs - objects).
    func writeGoRuntime(_ w: inout Writer, _ d: Dynamics, threads: Double, startTime: Double) {
        let gcInterval = d.pick("go.gc.interval", 15, 30)
        let gcCount = Self.whole(d.grow("go.gc", base: d.pick("go.gc.base", 3, 9), rate: 1 / gcInterval))
        // Quantiles wander with recent pauses; the sum uses the long-run mean so that it only grows.
        let jitter = 1 + 0.1 * d.wave("go.gc.pause")
        var quantiles: [Double] = []
        var pause = d.pick("go.gc.q0", 1.8e-5, 3e-5)
        var meanPause = 0.0
        for step in 0..<5 {
            quantiles.append((pause * jitter * 1e9).rounded() / 1e9)
            if (1...3).contains(step) { meanPause += pause * 0.35 }
            pause *= step == 3 ? d.pick("go.gc.tail", 4, 8) : d.pick("go.gc.step", 1.25, 1.6, step)
        }
        w.header("go_gc_duration_seconds", "A summary of the pause duration of garbage collection cycles.", .summary)
        for (label, value) in zip(Tables.quantiles, quantiles) {
            w.sample("go_gc_duration_seconds", "quantile", label, value)
        }
        w.sample("go_gc_duration_seconds_sum", (gcCount * meanPause * 1e9).rounded() / 1e9)
        w.sample("go_gc_duration_seconds_count", gcCount)
        w.single(
            "go_goroutines", "Number of goroutines that currently exist.",
            Self.nearest(d.pick("go.goroutines", 38, 52) + 3 * d.wave("go.goroutines")))
        let versions = ["go1.21.13", "go1.22.2", "go1.22.12", "go1.23.4"]
        w.header("go_info", "Information about the Go environment.", .gauge)
        w.sample("go_info", "version", versions[Int(d.bits("go.version", 0) % 4)], 1)

        // The heap moves slowly so that frees (mallocs - live objects) still only grow.
        let heapBase = d.pick("go.heap", 4.5e6, 9e6)
        let heapAlloc = (heapBase * (1 + 0.25 * d.drift("go.heap")) / 16).rounded(.down) * 16
        let inuseFactor = d.pick("go.heap.inuse", 1.35, 1.5)
        let heapInuse = (heapAlloc * inuseFactor / 8192).rounded(.up) * 8192
        let heapSys = (heapBase * 1.25 * inuseFactor * 1.1 / 65_536).rounded(.up) * 65_536
        let heapIdle = heapSys - heapInuse
        let objectSize = d.pick("go.objsize", 150, 185)
        let objects = Self.whole(heapAlloc / objectSize)
        // Never fewer mallocs than live objects, so frees stay positive.
        let mallocBase = heapBase * 1.25 / objectSize + d.pick("go.mallocs", 2e4, 6e4)
        let mallocs = Self.whole(
            d.grow("go.mallocs", base: mallocBase, rate: d.pick("go.mallocs.rate", 1_500, 3_500)))
        let stack = 32_768 * d.pick("go.stack", 30, 38).rounded(.down)
        let procs = [4.0, 8, 16][Int(d.bits("go.procs", 0) % 3)]
        let mspanSys = 16_320 * ((heapBase * 1.25 * inuseFactor / 7_000 * 160 / 16_320).rounded(.up) + 1)
        let buckHash = d.pick("go.buckhash", 1.44e6, 1.5e6).rounded(.down)
        let gcSys = d.pick("go.gcsys", 3.5e6, 4.5e6).rounded(.down)
        let otherSys = d.pick("go.othersys", 1.2e6, 1.6e6).rounded(.down)
        let sys = heapSys + stack + mspanSys + (1_200 * procs + 6_000) + buckHash + gcSys + otherSys
        let sinceGC = (d.t + d.pick("go.gc.phase", 0, gcInterval)).truncatingRemainder(dividingBy: gcInterval)
        let lastGC = startTime + max(0, d.t - sinceGC) + d.pick("go.gc.ns", 0.001, 0.999)

        let stats: [(String, String, MetricType, Double)] = [
            ("alloc_bytes", "Number of bytes allocated and still in use.", .gauge, heapAlloc),
            (
                "alloc_bytes_total", "Total number of bytes allocated, even if freed.", .counter,
                Self.whole(
                    d.grow(
                        "go.allocbytes", base: d.pick("go.allocbytes", 15e6, 30e6),
                        rate: d.pick("go.allocrate", 1.5e5, 4.5e5)))
            ),
            ("buck_hash_sys_bytes", "Number of bytes used by the profiling bucket hash table.", .gauge, buckHash),
            ("frees_total", "Total number of frees.", .counter, mallocs - objects),
            ("gc_sys_bytes", "Number of bytes used for garbage collection system metadata.", .gauge, gcSys),
            ("heap_alloc_bytes", "Number of heap bytes allocated and still in use.", .gauge, heapAlloc),
            ("heap_idle_bytes", "Number of heap bytes waiting to be used.", .gauge, heapIdle),
            ("heap_inuse_bytes", "Number of heap bytes that are in use.", .gauge, heapInuse),
            ("heap_objects", "Number of allocated objects.", .gauge, objects),
            (
                "heap_released_bytes", "Number of heap bytes released to OS.", .gauge,
                Self.pages(heapIdle * d.pick("go.released", 0.5, 0.7))
            ),
            ("heap_sys_bytes", "Number of heap bytes obtained from system.", .gauge, heapSys),
            ("last_gc_time_seconds", "Number of seconds since 1970 of last garbage collection.", .gauge, lastGC),
            ("lookups_total", "Total number of pointer lookups.", .counter, 0),
            ("mallocs_total", "Total number of mallocs.", .counter, mallocs),
            ("mcache_inuse_bytes", "Number of bytes in use by mcache structures.", .gauge, 1_200 * procs),
            (
                "mcache_sys_bytes", "Number of bytes used for mcache structures obtained from system.", .gauge,
                1_200 * procs + 6_000
            ),
            (
                "mspan_inuse_bytes", "Number of bytes in use by mspan structures.", .gauge,
                160 * (heapInuse / 7_000).rounded(.down)
            ),
            ("mspan_sys_bytes", "Number of bytes used for mspan structures obtained from system.", .gauge, mspanSys),
            (
                "next_gc_bytes", "Number of heap bytes when next garbage collection will take place.", .gauge,
                (heapBase * 1.25 * d.pick("go.nextgc", 1.5, 1.9) / 16).rounded(.down) * 16
            ),
            ("other_sys_bytes", "Number of bytes used for other system allocations.", .gauge, otherSys),
            ("stack_inuse_bytes", "Number of bytes in use by the stack allocator.", .gauge, stack),
            ("stack_sys_bytes", "Number of bytes obtained from system for stack allocator.", .gauge, stack),
            ("sys_bytes", "Number of bytes obtained from system.", .gauge, sys),
        ]
        for (suffix, help, type, value) in stats {
            let name = "go_memstats_" + suffix
            w.single(name, help, type, value)
        }
        w.single("go_threads", "Number of OS threads created.", threads)
    }
}

// MARK: - Agent and guest families

extension SimulatedShimBody {
    /// The agent's private registry, sorted by name as Rust's `prometheus` gathers it; the Go shim re-encodes
    /// it in this order too (the real one uses Go-map order).
    func writeAgent(_ w: inout Writer, _ d: Dynamics, _ guest: GuestState, fault: BodyFault) {
        let agent = Self.process(Self.agentShape(), d, rust: true)
        w.itemFamily("kata_agent_io_stat", "Agent process IO statistics.", agent.io)
        w.itemFamily("kata_agent_proc_stat", "Agent process statistics.", agent.stat)
        w.itemFamily("kata_agent_proc_status", "Agent process status.", agent.status)
        w.single("kata_agent_scrape_count", "Metrics scrape count", .counter, guest.scrapes)
        w.single("kata_agent_threads", "Agent process threads", agent.threads)
        w.single("kata_agent_total_rss", "Agent process total RSS size", agent.rssBytes)
        w.single(
            "kata_agent_total_time", "Agent process total time", (agent.stat["utime"] + agent.stat["stime"]) / 100)
        w.single("kata_agent_total_vm", "Agent process total VM size", agent.sizeBytes)

        writeGuestCPU(&w, d, guest)
        let sectors = writeGuestDisks(&w, d)
        var load = ItemValues(Tables.load)
        let busy = guest.truth.cpuCores * d.pick("guest.load", 1.05, 1.4)
        let settle = d.t / (d.t + 600)
        load["load1"] = Self.hundredths(busy * (1 + 0.6 * d.wave("guest.load1")))
        load["load5"] = Self.hundredths(busy * (1 + 0.25 * d.wave("guest.load5")) * min(1, 3 * settle))
        load["load15"] = Self.hundredths(busy * (1 + 0.1 * d.wave("guest.load15")) * settle)
        w.itemFamily("kata_guest_load", "Guest system load.", load)
        w.itemFamily("kata_guest_meminfo", "Statistics about memory usage in the system.", guest.meminfo)

        w.header("kata_guest_netdev_stat", "Guest net devices statistics.", .gauge)
        var eth0 = ItemValues(Tables.netdev)
        eth0["recv_bytes"] = guest.rxBytes
        eth0["recv_packets"] = guest.rxPackets
        eth0["sent_bytes"] = guest.txBytes
        eth0["sent_packets"] = guest.txPackets
        w.items("kata_guest_netdev_stat", eth0, outer: ("interface", "eth0"))
        var loop = ItemValues(Tables.netdev)
        loop["recv_bytes"] = guest.loopBytes
        loop["recv_packets"] = guest.loopPackets
        loop["sent_bytes"] = guest.loopBytes
        loop["sent_packets"] = guest.loopPackets
        w.items("kata_guest_netdev_stat", loop, outer: ("interface", "lo"))

        var tasks = ItemValues(Tables.tasks)
        tasks["cur"] = 1 + Self.nearest(max(0, busy + 0.8 * d.wave("guest.running")))
        tasks["max"] = guest.threads - d.pick("guest.kthreads", 20, 30).rounded(.down)
        w.itemFamily("kata_guest_tasks", "Guest system load.", tasks)
        writeGuestVMStat(&w, d, guest, sectors: sectors)
        if fault == .inject { Self.writeHostile(&w) }
        if fault == .duplicate { Self.writeDuplicates(&w) }
    }

    static func hundredths(_ value: Double) -> Double { (max(0, value) * 100).rounded() / 100 }

    /// Per-CPU times in ms (USER_HZ ticks × 10); the `total` row is their exact sum, as in /proc/stat.
    ///
    /// The usage items (user, nice, system, irq, softirq) of all CPUs add up to exactly `usageTicks`: each
    /// step takes a fixed share of what is left, rounded down, and passes the rest on. A share rounded down
    /// and its remainder both only grow as the whole grows, so every counter is monotonic and the sum exact.
    /// guest and guest_nice stay 0 (no nested VMs); idle fills the rest of the uptime.
    func writeGuestCPU(_ w: inout Writer, _ d: Dynamics, _ guest: GuestState) {
        let items = Tables.cpuTime
        var total = ItemValues(items)
        var perCPU: [ItemValues] = []
        let uptimeMillis = guest.uptime * 1000
        // CPU 0 takes the most interrupts and the most work.
        let weights = (0..<guest.cpus).map { $0 == 0 ? 1.2 : d.pick("cpu.load", 0.6, 1.1, $0) }
        let weightSum = weights.reduce(0, +)
        // Remainder last: user takes what the others leave, and nice is exactly 0 in most sandboxes.
        let usageShares: [(String, Double)] = [
            ("system", d.pick("cpu.system", 0.22, 0.38)),
            ("softirq", d.pick("cpu.softirq", 0.02, 0.05)),
            ("irq", d.pick("cpu.irq", 0.002, 0.01)),
            ("nice", d.bits("cpu.nice", 0) % 3 == 0 ? d.pick("cpu.nice", 0.01, 0.04) : 0),
            ("user", d.pick("cpu.user", 0.55, 0.72)),
        ]
        let shareSum = usageShares.reduce(0) { $0 + $1.1 }
        var ticksLeft = guest.usageTicks
        var weightLeft = weightSum
        for cpu in 0..<guest.cpus {
            var values = ItemValues(items)
            let cpuTicks = cpu == guest.cpus - 1 ? ticksLeft : (ticksLeft * (weights[cpu] / weightLeft)).rounded(.down)
            ticksLeft -= cpuTicks
            weightLeft -= weights[cpu]
            var itemTicksLeft = cpuTicks
            var shareLeft = shareSum
            for (index, (item, share)) in usageShares.enumerated() {
                let last = index == usageShares.count - 1
                let ticks = last ? itemTicksLeft : (itemTicksLeft * (share / shareLeft)).rounded(.down)
                itemTicksLeft -= ticks
                shareLeft -= share
                values[item] = ticks * 10
            }
            let iowait = d.grow("cpu.iowait", cpu, base: 0, rate: d.pick("cpu.iowait", 0.1, 0.5), at: guest.uptime)
            let steal = d.grow("cpu.steal", cpu, base: 0, rate: d.pick("cpu.steal", 0.1, 0.6), at: guest.uptime)
            values["iowait"] = (iowait / 10).rounded(.down) * 10
            values["steal"] = (steal / 10).rounded(.down) * 10
            // From the smooth usage this CPU's ticks approximate: at most 0.8 cores per CPU, so idle still
            // grows at 0.19 s/s or more, and rounding a growing value down never makes it shrink.
            let usageMillis = guest.truth.cpuCores * 1000 * guest.uptime * weights[cpu] / weightSum
            values["idle"] = (max(0, uptimeMillis - usageMillis - iowait - steal) / 10).rounded(.down) * 10
            for index in values.values.indices { total.values[index] += values.values[index] }
            perCPU.append(values)
        }
        w.header("kata_guest_cpu_time", "Guest CPU statistics.", .gauge)
        for (cpu, values) in perCPU.enumerated() {
            w.items("kata_guest_cpu_time", values, outer: ("cpu", Tables.cpuLabels[cpu]))
        }
        w.items("kata_guest_cpu_time", total, outer: ("cpu", "total"))
    }

    /// pmem0 is the read-only DAX rootfs image (pmem0p1 its partition); vda a block volume with some writes.
    /// Returns the sectors read and written on whole disks, which /proc/vmstat counts as pgpgin/pgpgout.
    func writeGuestDisks(_ w: inout Writer, _ d: Dynamics) -> (read: Double, written: Double) {
        var pmem = ItemValues(Tables.diskstat)
        let pmemReads = Self.whole(d.grow("disk.pmem", base: d.pick("disk.pmem", 1_600, 2_100), rate: 0.002))
        pmem["reads"] = pmemReads
        pmem["sectors_read"] = Self.whole(pmemReads * 63.6)
        pmem["time_reading"] = Self.whole(pmemReads * 0.108)
        pmem["time_in_progress"] = Self.whole(pmemReads * 0.127)
        pmem["weighted_time_in_progress"] = Self.whole(pmemReads * 0.108)
        var partition = ItemValues(Tables.diskstat)
        let partitionReads = Self.whole(pmemReads * 0.96)
        partition["reads"] = partitionReads
        partition["sectors_read"] = Self.whole(partitionReads * 63.8)
        partition["time_reading"] = Self.whole(partitionReads * 0.109)
        partition["time_in_progress"] = Self.whole(partitionReads * 0.127)
        partition["weighted_time_in_progress"] = Self.whole(partitionReads * 0.109)

        var vda = ItemValues(Tables.diskstat)
        let reads = d.grow(
            "disk.vda.reads", base: d.pick("disk.vda.reads", 120, 260), rate: d.pick("disk.vda.r", 0.02, 0.08))
        let writes = d.grow(
            "disk.vda.writes", base: d.pick("disk.vda.writes", 5, 30), rate: d.pick("disk.vda.w", 0.1, 0.5))
        let flushes = d.grow("disk.vda.flushes", base: 2, rate: 0.05)
        vda["reads"] = Self.whole(reads)
        vda["merged"] = Self.whole(reads * 0.1)
        vda["sectors_read"] = Self.whole(reads * 16)
        vda["time_reading"] = Self.whole(reads * 0.4)
        vda["writes"] = Self.whole(writes)
        vda["writes_merged"] = Self.whole(writes * 0.6)
        vda["sectors_written"] = Self.whole(writes * 24)
        vda["time_writing"] = Self.whole(writes * 1.1)
        vda["in_progress"] = d.wave("disk.vda.busy") > 0.93 ? 1 : 0
        vda["time_in_progress"] = Self.whole(reads * 0.35 + writes * 0.9)
        vda["weighted_time_in_progress"] = Self.whole(reads * 0.4 + writes * 1.1 + flushes * 0.5)
        vda["flushes"] = Self.whole(flushes)
        vda["time_flushing"] = Self.whole(flushes * 0.5)

        w.header("kata_guest_diskstat", "Disks statistics in system.", .gauge)
        w.items("kata_guest_diskstat", pmem, outer: ("disk", "pmem0"))
        w.items("kata_guest_diskstat", partition, outer: ("disk", "pmem0p1"))
        w.items("kata_guest_diskstat", vda, outer: ("disk", "vda"))
        return (pmem["sectors_read"] + vda["sectors_read"], vda["sectors_written"])
    }

    /// /proc/vmstat in pages, agreeing with meminfo (nr_free_pages = MemFree / 4096, nr_kernel_stack in KiB…).
    func writeGuestVMStat(
        _ w: inout Writer, _ d: Dynamics, _ guest: GuestState, sectors: (read: Double, written: Double)
    ) {
        let m = guest.meminfo
        var v = ItemValues(Tables.vmstat)
        let page = 4096.0
        v["nr_free_pages"] = m["mem_free"] / page
        v["nr_active_anon"] = m["active_anon"] / page
        v["nr_inactive_anon"] = m["inactive_anon"] / page
        v["nr_active_file"] = m["active_file"] / page
        v["nr_inactive_file"] = m["inactive_file"] / page
        v["nr_zone_active_anon"] = m["active_anon"] / page
        v["nr_zone_inactive_anon"] = m["inactive_anon"] / page
        v["nr_zone_active_file"] = m["active_file"] / page
        v["nr_zone_inactive_file"] = m["inactive_file"] / page
        v["nr_anon_pages"] = m["anon_pages"] / page
        v["nr_file_pages"] = m["cached"] / page
        v["nr_mapped"] = m["mapped"] / page
        v["nr_shmem"] = m["shmem"] / page
        v["nr_dirty"] = m["dirty"] / page
        v["nr_zone_write_pending"] = m["dirty"] / page
        v["nr_slab_reclaimable"] = m["s_reclaimable"] / page
        v["nr_slab_unreclaimable"] = m["s_unreclaim"] / page
        v["nr_kernel_stack"] = m["kernel_stack"] / 1024
        v["nr_page_table_pages"] = m["page_tables"] / page
        let dirtyable = (m["mem_free"] + m["active_file"] + m["inactive_file"]) / page
        v["nr_dirty_threshold"] = (dirtyable * 0.2).rounded(.down)
        v["nr_dirty_background_threshold"] = (dirtyable * 0.1).rounded(.down)
        // pgpgin/pgpgout are KiB moved to and from block devices: 512-byte sectors / 2.
        let pageOuts = (sectors.written / 2).rounded(.down)
        v["pgpgin"] = (sectors.read / 2).rounded(.down)
        v["pgpgout"] = pageOuts
        v["nr_written"] = (pageOuts / 4).rounded(.down)
        v["nr_dirtied"] = (pageOuts / 4).rounded(.down) + m["dirty"] / page
        let faults = d.grow("vm.pgfault", base: d.pick("vm.pgfault", 6e5, 1.2e6), rate: d.pick("vm.faults", 30, 120))
        v["pgfault"] = Self.whole(faults)
        v["pgmajfault"] = Self.whole(d.grow("vm.pgmajfault", base: d.pick("vm.pgmajfault", 300, 500), rate: 0.002))
        let allocs = d.grow("vm.pgalloc", base: d.pick("vm.pgalloc", 3e5, 5e5), rate: d.pick("vm.allocs", 20, 90))
        // Guests above 3 GiB have RAM past the 4 GiB hole, hence a Normal zone.
        let normalShare = guest.memoryMiB > 3072 ? d.pick("vm.normal", 0.2, 0.35) : 0
        v["pgalloc_dma32"] = Self.whole(allocs * (1 - normalShare))
        v["pgalloc_normal"] = Self.whole(allocs * normalShare)
        v["pgfree"] = Self.whole(allocs + d.pick("vm.pgfree", 4.5e5, 5.5e5) * guest.memoryMiB / 2048)
        v["pgactivate"] = Self.whole(d.grow("vm.pgactivate", base: d.pick("vm.pgactivate", 1.8e4, 2.6e4), rate: 0.5))
        // A few sandboxes had one OOM kill a while after start.
        if d.bits("vm.oom", 0) % 8 == 0 && d.t > 900 { v["oom_kill"] = 1 }
        w.itemFamily("kata_guest_vm_stat", "Guest virtual memory statistics.", v)
    }

    /// Label values a hostile guest could choose; correctly escaped, since the guest does not control the encoder.
    static func writeHostile(_ w: inout Writer) {
        let name = "kata_guest_hostile"
        w.header(name, "Guest-chosen label values that try to break out of their quotes.", .gauge)
        let values = [
            "quote\"inside", "back\\slash", "new\nline", "\"} 1\n", "evil\"} 9\nkata_pulse_fake 1", "literal\\n",
            "trailing\\", "caf\u{E9}\u{2028}",
        ]
        for (index, value) in values.enumerated() {
            w.sample(name, "interface", value, Double(index + 1))
        }
        w.out.append(contentsOf: "kata_guest_hostile{__x=\"1\",interface=\"dunder\"} 9\n".utf8)
        w.out.append(contentsOf: "kata_guest_hostile{interface=\"spoof\",sandbox_id=\"spoofed\"} 10\n".utf8)
    }

    /// After the agent's families: one family repeating a series, and one named as an agent family.
    static func writeDuplicates(_ w: inout Writer) {
        w.header("kata_guest_repeated", "A family whose only series is written twice.", .gauge)
        w.out.append(contentsOf: "kata_guest_repeated{item=\"load1\"} 1\nkata_guest_repeated{item=\"load1\"} 2\n".utf8)
        w.header("kata_pulse_sandbox_up", "Not the agent's: a shim claiming one of its names.", .gauge)
        w.out.append(contentsOf: "kata_pulse_sandbox_up 1\n".utf8)
    }
}

// MARK: - runtime-rs parts

extension SimulatedShimBody {
    /// Dragonball's registry: only its own counters, the VMM's /proc figures being the shim's.
    func writeDragonball(_ w: inout Writer, _ d: Dynamics, _ guest: GuestState) {
        w.single("kata_hypervisor_scrape_count", "Hypervisor metrics scrape count.", .counter, guest.scrapes)
        var seccomp = ItemValues(Tables.seccomp)
        seccomp["num_faults"] = 0
        w.itemFamily("kata_hypervisor_seccomp", "Hypervisor metrics for the seccomp filtering.", seccomp)
        w.itemFamily("kata_hypervisor_signals", "Hypervisor metrics related to signals.", ItemValues(Tables.signals))
        w.header("kata_hypervisor_vcpu", "Hypervisor metrics specific to VCPUs' mode of functioning.", .gauge)
        for cpu in 0..<guest.cpus {
            var values = ItemValues(Tables.vcpu)
            let at = guest.uptime
            values["exit_io_in"] = Self.whole(
                d.grow("vcpu.io_in", cpu, base: 0, rate: d.pick("vcpu.io_in", 1, 2), at: at))
            values["exit_io_out"] = Self.whole(
                d.grow("vcpu.io_out", cpu, base: 0, rate: d.pick("vcpu.io_out", 1.5, 3), at: at))
            values["exit_mmio_read"] = Self.whole(
                d.grow("vcpu.mmio_r", cpu, base: 0, rate: d.pick("vcpu.mmio_r", 4, 8), at: at))
            values["exit_mmio_write"] = Self.whole(
                d.grow("vcpu.mmio_w", cpu, base: 0, rate: d.pick("vcpu.mmio_w", 6, 12), at: at))
            values["filter_cpuid"] = guest.uptime > 0 ? 60 + Double(d.bits("vcpu.cpuid", cpu) % 40) : 0
            w.items("kata_hypervisor_vcpu", values, outer: ("cpu_id", Tables.cpuLabels[cpu]))
        }
    }

    /// runtime-rs' own registry: Rust procfs units (KiB) and item spellings.
    func writeRustShim(_ w: inout Writer, _ d: Dynamics, _ guest: GuestState) {
        let shim = Self.process(Self.dragonballShimShape(d, guest), d, rust: true)
        Self.writeProcessFamilies(
            &w, prefix: "kata_shim",
            help: (
                "Kata containerd shim v2 open FDs.", "Kata containerd shim v2 process IO statistics.",
                "Kata containerd shim v2 process statistics.", "Kata containerd shim v2 process status.",
                "Kata containerd shim v2 process threads."
            ), shim)
    }
}
