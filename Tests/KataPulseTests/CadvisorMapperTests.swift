import Testing

@testable import KataPulse
@testable import KataPulseSimulator

/// The guest families of the synthesized Go-shim fixture (`shim-go-runtime.prom`: QEMU + virtiofsd, Rust
/// agent ≥ 3.1), verbatim; meminfo without its hugepage/cma/vmalloc/direct_map items, vm_stat with four keys,
/// cpu_time for `total` and cpu 0. The expectations below are computed by hand from these lines.
private let fixtureGuest = #"""
    # HELP kata_hypervisor_fds Open FDs for hypervisor.
    # TYPE kata_hypervisor_fds gauge
    kata_hypervisor_fds 118
    # HELP kata_shim_fds Kata containerd shim v2 open FDs.
    # TYPE kata_shim_fds gauge
    kata_shim_fds 41
    # HELP kata_virtiofsd_fds Open FDs for virtiofsd.
    # TYPE kata_virtiofsd_fds gauge
    kata_virtiofsd_fds 36
    # HELP kata_guest_cpu_time Guest CPU statistics.
    # TYPE kata_guest_cpu_time gauge
    kata_guest_cpu_time{cpu="0",item="guest"} 0
    kata_guest_cpu_time{cpu="0",item="guest_nice"} 0
    kata_guest_cpu_time{cpu="0",item="idle"} 2.67144e+06
    kata_guest_cpu_time{cpu="0",item="iowait"} 310
    kata_guest_cpu_time{cpu="0",item="irq"} 0
    kata_guest_cpu_time{cpu="0",item="nice"} 0
    kata_guest_cpu_time{cpu="0",item="softirq"} 1460
    kata_guest_cpu_time{cpu="0",item="steal"} 920
    kata_guest_cpu_time{cpu="0",item="system"} 38720
    kata_guest_cpu_time{cpu="0",item="user"} 52180
    kata_guest_cpu_time{cpu="total",item="guest"} 0
    kata_guest_cpu_time{cpu="total",item="guest_nice"} 0
    kata_guest_cpu_time{cpu="total",item="idle"} 5.35566e+06
    kata_guest_cpu_time{cpu="total",item="iowait"} 490
    kata_guest_cpu_time{cpu="total",item="irq"} 0
    kata_guest_cpu_time{cpu="total",item="nice"} 0
    kata_guest_cpu_time{cpu="total",item="softirq"} 2350
    kata_guest_cpu_time{cpu="total",item="steal"} 1690
    kata_guest_cpu_time{cpu="total",item="system"} 73830
    kata_guest_cpu_time{cpu="total",item="user"} 99910
    # HELP kata_guest_diskstat Disks statistics in system.
    # TYPE kata_guest_diskstat gauge
    kata_guest_diskstat{disk="pmem0",item="discards"} 0
    kata_guest_diskstat{disk="pmem0",item="discards_merged"} 0
    kata_guest_diskstat{disk="pmem0",item="flushes"} 0
    kata_guest_diskstat{disk="pmem0",item="in_progress"} 0
    kata_guest_diskstat{disk="pmem0",item="merged"} 0
    kata_guest_diskstat{disk="pmem0",item="reads"} 1862
    kata_guest_diskstat{disk="pmem0",item="sectors_discarded"} 0
    kata_guest_diskstat{disk="pmem0",item="sectors_read"} 118344
    kata_guest_diskstat{disk="pmem0",item="sectors_written"} 0
    kata_guest_diskstat{disk="pmem0",item="time_discarding"} 0
    kata_guest_diskstat{disk="pmem0",item="time_flushing"} 0
    kata_guest_diskstat{disk="pmem0",item="time_in_progress"} 236
    kata_guest_diskstat{disk="pmem0",item="time_reading"} 201
    kata_guest_diskstat{disk="pmem0",item="time_writing"} 0
    kata_guest_diskstat{disk="pmem0",item="weighted_time_in_progress"} 201
    kata_guest_diskstat{disk="pmem0",item="writes"} 0
    kata_guest_diskstat{disk="pmem0",item="writes_merged"} 0
    kata_guest_diskstat{disk="pmem0p1",item="discards"} 0
    kata_guest_diskstat{disk="pmem0p1",item="discards_merged"} 0
    kata_guest_diskstat{disk="pmem0p1",item="flushes"} 0
    kata_guest_diskstat{disk="pmem0p1",item="in_progress"} 0
    kata_guest_diskstat{disk="pmem0p1",item="merged"} 0
    kata_guest_diskstat{disk="pmem0p1",item="reads"} 1790
    kata_guest_diskstat{disk="pmem0p1",item="sectors_discarded"} 0
    kata_guest_diskstat{disk="pmem0p1",item="sectors_read"} 114208
    kata_guest_diskstat{disk="pmem0p1",item="sectors_written"} 0
    kata_guest_diskstat{disk="pmem0p1",item="time_discarding"} 0
    kata_guest_diskstat{disk="pmem0p1",item="time_flushing"} 0
    kata_guest_diskstat{disk="pmem0p1",item="time_in_progress"} 228
    kata_guest_diskstat{disk="pmem0p1",item="time_reading"} 196
    kata_guest_diskstat{disk="pmem0p1",item="time_writing"} 0
    kata_guest_diskstat{disk="pmem0p1",item="weighted_time_in_progress"} 196
    kata_guest_diskstat{disk="pmem0p1",item="writes"} 0
    kata_guest_diskstat{disk="pmem0p1",item="writes_merged"} 0
    # HELP kata_guest_meminfo Statistics about memory usage in the system.
    # TYPE kata_guest_meminfo gauge
    kata_guest_meminfo{item="active"} 9.0841088e+07
    kata_guest_meminfo{item="active_anon"} 1.08544e+06
    kata_guest_meminfo{item="active_file"} 8.9755648e+07
    kata_guest_meminfo{item="anon_hugepages"} 0
    kata_guest_meminfo{item="anon_pages"} 5.8068992e+07
    kata_guest_meminfo{item="bounce"} 0
    kata_guest_meminfo{item="buffers"} 0
    kata_guest_meminfo{item="cached"} 1.75120384e+08
    kata_guest_meminfo{item="commit_limit"} 1.030762496e+09
    kata_guest_meminfo{item="committed_as"} 1.9163136e+08
    kata_guest_meminfo{item="dirty"} 4096
    kata_guest_meminfo{item="hardware_corrupted"} 0
    kata_guest_meminfo{item="high_free"} 0
    kata_guest_meminfo{item="high_total"} 0
    kata_guest_meminfo{item="inactive"} 1.42340096e+08
    kata_guest_meminfo{item="inactive_anon"} 5.982208e+07
    kata_guest_meminfo{item="inactive_file"} 8.2518016e+07
    kata_guest_meminfo{item="k_reclaimable"} 1.0502144e+07
    kata_guest_meminfo{item="kernel_stack"} 1.933312e+06
    kata_guest_meminfo{item="low_free"} 0
    kata_guest_meminfo{item="low_total"} 0
    kata_guest_meminfo{item="mapped"} 5.5779328e+07
    kata_guest_meminfo{item="mem_available"} 1.876484096e+09
    kata_guest_meminfo{item="mem_free"} 1.739624448e+09
    kata_guest_meminfo{item="mem_total"} 2.061524992e+09
    kata_guest_meminfo{item="mlocked"} 0
    kata_guest_meminfo{item="mmap_copy"} 0
    kata_guest_meminfo{item="nfs_unstable"} 0
    kata_guest_meminfo{item="page_tables"} 1.265664e+06
    kata_guest_meminfo{item="per_cpu"} 1.179648e+06
    kata_guest_meminfo{item="quicklists"} 0
    kata_guest_meminfo{item="s_reclaimable"} 1.0502144e+07
    kata_guest_meminfo{item="s_unreclaim"} 2.8401664e+07
    kata_guest_meminfo{item="shmem"} 2.838528e+06
    kata_guest_meminfo{item="shmem_hugepages"} 0
    kata_guest_meminfo{item="shmem_pmd_mapped"} 0
    kata_guest_meminfo{item="slab"} 3.8903808e+07
    kata_guest_meminfo{item="swap_cached"} 0
    kata_guest_meminfo{item="swap_free"} 0
    kata_guest_meminfo{item="swap_total"} 0
    kata_guest_meminfo{item="unevictable"} 0
    kata_guest_meminfo{item="writeback"} 0
    kata_guest_meminfo{item="writeback_tmp"} 0
    # HELP kata_guest_netdev_stat Guest net devices statistics.
    # TYPE kata_guest_netdev_stat gauge
    kata_guest_netdev_stat{interface="eth0",item="recv_bytes"} 1.044193e+07
    kata_guest_netdev_stat{interface="eth0",item="recv_compressed"} 0
    kata_guest_netdev_stat{interface="eth0",item="recv_drop"} 0
    kata_guest_netdev_stat{interface="eth0",item="recv_errs"} 0
    kata_guest_netdev_stat{interface="eth0",item="recv_fifo"} 0
    kata_guest_netdev_stat{interface="eth0",item="recv_frame"} 0
    kata_guest_netdev_stat{interface="eth0",item="recv_multicast"} 0
    kata_guest_netdev_stat{interface="eth0",item="recv_packets"} 7200
    kata_guest_netdev_stat{interface="eth0",item="sent_bytes"} 1.294833e+06
    kata_guest_netdev_stat{interface="eth0",item="sent_carrier"} 0
    kata_guest_netdev_stat{interface="eth0",item="sent_colls"} 0
    kata_guest_netdev_stat{interface="eth0",item="sent_compressed"} 0
    kata_guest_netdev_stat{interface="eth0",item="sent_drop"} 0
    kata_guest_netdev_stat{interface="eth0",item="sent_errs"} 0
    kata_guest_netdev_stat{interface="eth0",item="sent_fifo"} 0
    kata_guest_netdev_stat{interface="eth0",item="sent_packets"} 6381
    kata_guest_netdev_stat{interface="lo",item="recv_bytes"} 8812
    kata_guest_netdev_stat{interface="lo",item="recv_compressed"} 0
    kata_guest_netdev_stat{interface="lo",item="recv_drop"} 0
    kata_guest_netdev_stat{interface="lo",item="recv_errs"} 0
    kata_guest_netdev_stat{interface="lo",item="recv_fifo"} 0
    kata_guest_netdev_stat{interface="lo",item="recv_frame"} 0
    kata_guest_netdev_stat{interface="lo",item="recv_multicast"} 0
    kata_guest_netdev_stat{interface="lo",item="recv_packets"} 104
    kata_guest_netdev_stat{interface="lo",item="sent_bytes"} 8812
    kata_guest_netdev_stat{interface="lo",item="sent_carrier"} 0
    kata_guest_netdev_stat{interface="lo",item="sent_colls"} 0
    kata_guest_netdev_stat{interface="lo",item="sent_compressed"} 0
    kata_guest_netdev_stat{interface="lo",item="sent_drop"} 0
    kata_guest_netdev_stat{interface="lo",item="sent_errs"} 0
    kata_guest_netdev_stat{interface="lo",item="sent_fifo"} 0
    kata_guest_netdev_stat{interface="lo",item="sent_packets"} 104
    # HELP kata_guest_tasks Guest system load.
    # TYPE kata_guest_tasks gauge
    kata_guest_tasks{item="cur"} 1
    kata_guest_tasks{item="max"} 93
    # HELP kata_guest_vm_stat Guest virtual memory statistics.
    # TYPE kata_guest_vm_stat gauge
    kata_guest_vm_stat{item="nr_free_pages"} 424713
    kata_guest_vm_stat{item="oom_kill"} 0
    kata_guest_vm_stat{item="pgfault"} 1.093341e+06
    kata_guest_vm_stat{item="pgmajfault"} 431
    """#

@Suite struct CadvisorMapperTests {
    let identity = CadvisorIdentity(sandboxID: "sb1", namespace: "prod", pod: "redis-0")
    let disks = try! DiskFilter()

    private func mapped(_ body: String, identity: CadvisorIdentity? = nil, now: Double = 1_700_000_000)
        throws -> [String: [Sample]]
    {
        let families = try ExpositionParser().parse(body)
        let output = CadvisorMapper.map(families, identity: identity ?? self.identity, disks: disks, now: now)
        #expect(output.map(\.name) == output.map(\.name).sorted())
        return Dictionary(uniqueKeysWithValues: output.map { ($0.name, $0.samples) })
    }

    private func value(_ map: [String: [Sample]], _ name: String, _ extra: [Label] = []) -> Double? {
        map[name]?.first { sample in extra.allSatisfy { sample.labels.contains($0) } }?.value
    }

    @Test func fixtureValuesMatchHandComputedExpectations() throws {
        let map = try mapped(fixtureGuest)
        // CPU: user 99910 + nice 0 + system 73830 + irq 0 + softirq 2350 ms; idle/iowait/steal/guest left out.
        #expect(value(map, "container_cpu_usage_seconds_total", [Label("cpu", "total")]) == 176.09)
        #expect(value(map, "container_cpu_user_seconds_total") == 99.91)
        #expect(value(map, "container_cpu_system_seconds_total") == 76.18)
        // Memory: total 2061524992, free 1739624448, inactive_file 82518016.
        #expect(value(map, "container_memory_usage_bytes") == 321_900_544)
        #expect(value(map, "container_memory_working_set_bytes") == 239_382_528)
        #expect(value(map, "container_memory_rss") == 58_068_992)
        #expect(value(map, "container_memory_cache") == 175_120_384)
        #expect(value(map, "container_memory_mapped_file") == 55_779_328)
        #expect(value(map, "container_memory_swap") == 0)
        #expect(value(map, "container_memory_kernel_usage") == 42_102_784)  // slab + kernel_stack + page_tables
        #expect(value(map, "container_memory_total_active_file_bytes") == 89_755_648)
        #expect(value(map, "container_memory_total_inactive_file_bytes") == 82_518_016)
        #expect(value(map, "container_spec_memory_limit_bytes") == 2_061_524_992)
        for scope in ["container", "hierarchy"] {
            #expect(
                value(
                    map, "container_memory_failures_total", [Label("failure_type", "pgfault"), Label("scope", scope)])
                    == 1_093_341)
            #expect(
                value(
                    map, "container_memory_failures_total",
                    [Label("failure_type", "pgmajfault"), Label("scope", scope)]) == 431)
        }
        #expect(map["container_memory_failures_total"]?.count == 4)
        #expect(value(map, "container_oom_events_total") == 0)
        // Network: eth0 only; lo is the guest's own loopback.
        let eth0 = [Label("interface", "eth0")]
        #expect(map["container_network_receive_bytes_total"]?.count == 1)
        #expect(value(map, "container_network_receive_bytes_total", eth0) == 10_441_930)
        #expect(value(map, "container_network_receive_packets_total", eth0) == 7_200)
        #expect(value(map, "container_network_receive_errors_total", eth0) == 0)
        #expect(value(map, "container_network_receive_packets_dropped_total", eth0) == 0)
        #expect(value(map, "container_network_transmit_bytes_total", eth0) == 1_294_833)
        #expect(value(map, "container_network_transmit_packets_total", eth0) == 6_381)
        #expect(value(map, "container_network_transmit_errors_total", eth0) == 0)
        #expect(value(map, "container_network_transmit_packets_dropped_total", eth0) == 0)
        // Disks: pmem0 only (pmem0p1 is a partition); sectors are 512 bytes, times milliseconds.
        let pmem0 = [Label("device", "/dev/pmem0")]
        #expect(map["container_fs_reads_total"]?.count == 1)
        #expect(value(map, "container_fs_reads_total", pmem0) == 1_862)
        #expect(value(map, "container_fs_reads_merged_total", pmem0) == 0)
        #expect(value(map, "container_fs_sector_reads_total", pmem0) == 118_344)
        #expect(value(map, "container_fs_reads_bytes_total", pmem0) == 60_592_128)
        #expect(value(map, "container_fs_read_seconds_total", pmem0) == 0.201)
        #expect(value(map, "container_fs_writes_total", pmem0) == 0)
        #expect(value(map, "container_fs_writes_bytes_total", pmem0) == 0)
        #expect(value(map, "container_fs_write_seconds_total", pmem0) == 0)
        #expect(value(map, "container_fs_io_current", pmem0) == 0)
        #expect(value(map, "container_fs_io_time_seconds_total", pmem0) == 0.236)
        #expect(value(map, "container_fs_io_time_weighted_seconds_total", pmem0) == 0.201)
        // Tasks and descriptors (shim 41 + hypervisor 118 + virtiofsd 36).
        #expect(value(map, "container_threads") == 93)
        #expect(value(map, "container_tasks_state", [Label("state", "running")]) == 1)
        #expect(value(map, "container_file_descriptors") == 195)
        #expect(value(map, "container_last_seen") == 1_700_000_000)
    }

    @Test func labelsAreCadvisorsPodShape() throws {
        let map = try mapped(fixtureGuest)
        let sample = try #require(map["container_memory_working_set_bytes"]?.first)
        #expect(
            sample.labels == [
                Label("container", ""), Label("id", "/kata/sb1"), Label("image", ""), Label("name", ""),
                Label("namespace", "prod"), Label("pod", "redis-0"),
            ])
        let vm = try mapped(fixtureGuest, identity: CadvisorIdentity(sandboxID: "sb1", vmContainer: "kata-vm"))
        let labelled = try #require(vm["container_threads"]?.first)
        #expect(labelled.labels.contains(Label("container", "kata-vm")))
        #expect(labelled.labels.contains(Label("image", "kata-vm")))
        #expect(labelled.labels.contains(Label("namespace", "")))
    }

    @Test func guestTimeIsNotCountedTwice() throws {
        let body = """
            kata_guest_cpu_time{cpu="total",item="user"} 5000
            kata_guest_cpu_time{cpu="total",item="nice"} 1000
            kata_guest_cpu_time{cpu="total",item="system"} 2000
            kata_guest_cpu_time{cpu="total",item="irq"} 100
            kata_guest_cpu_time{cpu="total",item="softirq"} 400
            kata_guest_cpu_time{cpu="total",item="guest"} 3000
            kata_guest_cpu_time{cpu="total",item="guest_nice"} 500
            kata_guest_cpu_time{cpu="total",item="steal"} 7000
            kata_guest_cpu_time{cpu="total",item="idle"} 90000
            kata_guest_cpu_time{cpu="total",item="iowait"} 800
            kata_guest_cpu_time{cpu="0",item="user"} 5000

            """
        let map = try mapped(body)
        #expect(value(map, "container_cpu_usage_seconds_total") == 8.5)
        #expect(value(map, "container_cpu_user_seconds_total") == 6)
        #expect(value(map, "container_cpu_system_seconds_total") == 2.5)
        #expect(map["container_cpu_usage_seconds_total"]?.count == 1)
    }

    @Test func absentInputsGiveAbsentFamilies() throws {
        let onlyMemory = try mapped(
            """
            kata_guest_meminfo{item="mem_total"} 1000
            kata_guest_meminfo{item="mem_free"} 400

            """)
        #expect(
            Set(onlyMemory.keys) == [
                "container_memory_usage_bytes", "container_spec_memory_limit_bytes", "container_last_seen",
            ])
        #expect(value(onlyMemory, "container_memory_usage_bytes") == 600)
        let nothing = try mapped("kata_shim_threads 12\n")
        #expect(Set(nothing.keys) == ["container_last_seen"])
        let workingSetClamped = try mapped(
            """
            kata_guest_meminfo{item="mem_total"} 1000
            kata_guest_meminfo{item="mem_free"} 900
            kata_guest_meminfo{item="inactive_file"} 300

            """)
        #expect(value(workingSetClamped, "container_memory_working_set_bytes") == 0)
    }

    @Test(arguments: ShimFlavor.allCases)
    func simulatedBodiesMapWithCadvisorLabelSets(flavor: ShimFlavor) throws {
        let body = SimulatedShimBody(sandboxID: "sb", flavor: flavor, seed: 3).render(elapsed: 500)
        let families = try ExpositionParser().parse(body)
        let output = CadvisorMapper.map(families, identity: identity, disks: disks, now: 1)
        let catalog = Dictionary(uniqueKeysWithValues: CadvisorCatalog.all.map { ($0.name, $0) })
        for family in output {
            let entry = try #require(catalog[family.name], "\(family.name) is not in the catalog")
            #expect(family.type == entry.type)
            #expect(family.help == entry.help)
            for sample in family.samples {
                #expect(sample.labels.map(\.name) == entry.labelNames, "\(family.name)")
            }
        }
        let names = Set(output.map(\.name))
        for expected in [
            "container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
            "container_network_receive_bytes_total", "container_file_descriptors",
        ] {
            #expect(names.contains(expected), "\(flavor) body lacks \(expected)")
        }
    }

    @Test func diskFilterKeepsWholeDisks() throws {
        for disk in ["vda", "vdb", "sda", "pmem0", "nvme0n1", "xvda", "mmcblk0"] {
            #expect(disks.includes(disk), "\(disk)")
        }
        for disk in ["vda1", "sda2", "pmem0p1", "nvme0n1p1", "loop0", "ram0", "sr0", "zram0", "dm-0", "mmcblk0p1"] {
            #expect(!disks.includes(disk), "\(disk)")
        }
        #expect(throws: (any Error).self) { try DiskFilter(excluding: "(unclosed") }
        let none = try DiskFilter(excluding: "^$")
        #expect(none.includes("loop0"))
    }
}

/// Every family the mapper can emit, checked against a real kubelet `/metrics/cadvisor` capture.
@Suite struct CadvisorCatalogTests {
    @Test func everyFamilyMatchesTheKubeletCapture() throws {
        let capture = try ExpositionParser().parse(KubeletCadvisorCapture.families)
        let byName = Dictionary(uniqueKeysWithValues: capture.map { ($0.name, $0) })
        for family in CadvisorCatalog.all {
            let real = try #require(byName[family.name], "\(family.name) is not a cAdvisor family")
            #expect(real.type == family.type, "\(family.name) TYPE")
            #expect(real.help == family.help, "\(family.name) HELP")
            let sample = try #require(real.samples.first)
            #expect(sample.labels.map(\.name).sorted() == family.labelNames, "\(family.name) labels")
        }
        #expect(Set(CadvisorCatalog.all.map(\.name)).count == CadvisorCatalog.all.count)
    }
}
