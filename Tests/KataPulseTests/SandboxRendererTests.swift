import Testing

@testable import KataPulse
@testable import KataPulseSimulator

/// The collector renders each body in the pass that reads it; what it publishes must be, byte for byte, what
/// parsing, relabelling, the cAdvisor mapping and rendering produce step by step (``ReferencePipeline``).
@Suite struct SandboxRendererTests {
    static let identities: [SandboxLabels] = [
        SandboxLabels(sandboxID: "4c1d0a6b9e3f4e2a8b7c6d5e4f3a2b1c"),
        SandboxLabels(sandboxID: "s-1", criUID: "uid-1", criName: "web-0", criNamespace: "team-a"),
        // Hostile pod metadata: quotes, backslashes, newlines and non-ASCII in every label.
        SandboxLabels(sandboxID: "s\"2", criUID: "u\\2", criName: "p\n2", criNamespace: "名前"),
    ]

    static func configurations() -> [Collector.Configuration] {
        var result: [Collector.Configuration] = []
        for set in [ExpositionSet.all, .kata, .cadvisor] {
            for vmContainer in [nil, "vm"] as [String?] {
                var configuration = Collector.Configuration()
                configuration.exposition = set
                configuration.cadvisor.vmContainer = vmContainer
                result.append(configuration)
            }
        }
        return result
    }

    static func bodies(flavor: ShimFlavor) -> [(String, [UInt8])] {
        let shim = SimulatedShimBody(sandboxID: "4c1d0a6b9e3f4e2a8b7c6d5e4f3a2b1c", flavor: flavor, seed: 11)
        return [
            ("fresh", shim.render(elapsed: 0.5)), ("an hour in", shim.render(elapsed: 3_600)),
            ("a day in", shim.render(elapsed: 86_400)), ("inject", shim.injectBody(elapsed: 60)),
            ("conflict", shim.conflictBody(elapsed: 60)), ("garbage", SimulatedShimBody.garbageBody()),
            ("bomb", SimulatedShimBody.bombBody(series: 300)),
        ]
    }

    @Test(arguments: [ShimFlavor.go, .rust])
    func everySimulatedBodyRendersAsTheModelDoes(flavor: ShimFlavor) async {
        for (what, body) in Self.bodies(flavor: flavor) {
            // Seconds of work on one of the few cooperative threads: let the other tests' tasks run between bodies.
            await Task.yield()
            for labels in Self.identities {
                for (index, configuration) in Self.configurations().enumerated() {
                    for startTime in [nil, 1_764_000_000.25] as [Double?] {
                        let target = Collector.CollectionTarget(
                            id: labels.sandboxID, labels: labels, startTime: startTime)
                        let difference = ReferencePipeline.difference(body, for: target, configuration: configuration)
                        #expect(difference == nil, "\(flavor) \(what), \(labels), configuration \(index)")
                    }
                }
            }
        }
    }

    /// Relabelling rules on bytes: renamed families and samples, reserved and colliding families, dropped and
    /// re-appended labels, the trailing `le`/`quantile`, duplicates whatever their label order, escapes, invalid
    /// UTF-8, interleaved families and values in every form (copied or re-written).
    @Test(arguments: [
        "go_x 1\nkata_shim_go_x 2\n",
        "kata_shim_go_x 2\ngo_x 1\n",
        "# TYPE go_h histogram\ngo_h_bucket{le=\"1\",a=\"b\"} 1\ngo_h_bucket{a=\"b\",le=\"+Inf\"} 2\ngo_h_sum{a=\"b\"} 3\ngo_h_count{a=\"b\"} 2\n",
        "# TYPE s summary\ns{quantile=\"0.5\",x=\"1\"} 1\ns_sum 2\ns_count 3\n# TYPE go_s summary\ngo_s_sum 1\n",
        "m{a=\"1\",b=\"2\"} 1\nm{b=\"2\",a=\"1\"} 2\nm{a=\"1\",b=\"2\",sandbox_id=\"x\"} 3\nm{a=\"1\",b=\"2\",__n=\"y\"} 4\n",
        "m{a=\"x\\\\y\\\"z\\nw\"} 1\nm{a=\"\u{FF}\"} 2\n",
        "kata_monitor_x 1\nkata_pulse_y 2\ncontainer_z 3\nprocess_cpu 4\n",
        "a 1\nb 2\na{x=\"1\"} 3\nb{x=\"2\"} 4\n",
        "v 0\nv{k=\"1\"} -0\nv{k=\"2\"} 1e-05\nv{k=\"3\"} 0.0001\nv{k=\"4\"} 123456\nv{k=\"5\"} 1234567\nv{k=\"6\"} 1.5e+06\nv{k=\"7\"} 0.30000000000000004\nv{k=\"8\"} +5\nv{k=\"9\"} 007\nv{k=\"10\"} 1E+06\nv{k=\"11\"} 1.0\nv{k=\"12\"} NaN\nv{k=\"13\"} -Inf\nv{k=\"14\"} 1e-320\nv{k=\"15\"} 123456789012345678\nv{k=\"16\"} 5 1700000000000\n",
        "# HELP h text with \\\\ and \\n and \\q\n# TYPE h gauge\nh 1\n# HELP only_help no samples\n",
        "kata_guest_meminfo{item=\"mem_total\"} 100\nkata_guest_meminfo{item=\"mem_free\"} 40\nkata_guest_meminfo{item=\"inactive_file\"} 10\nkata_shim_fds 7\n",
        // What the cAdvisor mapping reads, read from the body's bytes as from parsed families: first item wins
        // (last for the total CPU), escaped and non-ASCII interfaces and disks, escaped items never match,
        // labelled descriptor counts are not the scalar.
        """
        kata_guest_cpu_time{cpu="0",item="user"} 5
        kata_guest_cpu_time{cpu="total",item="user"} 10
        kata_guest_cpu_time{item="system",cpu="total"} 4
        kata_guest_cpu_time{cpu="total",item="user"} 12
        kata_guest_cpu_time{cpu="total",item="nice\\n"} 99
        kata_guest_cpu_time{cpu="tot\\\"al",item="irq"} 98
        kata_guest_netdev_stat{interface="eth\\\\0",item="recv_bytes"} 1
        kata_guest_netdev_stat{interface="eth\\"1",item="sent_bytes"} 2
        kata_guest_netdev_stat{interface="lo",item="recv_bytes"} 3
        kata_guest_netdev_stat{item="recv_bytes",interface="eth\\\\0"} 4
        kata_guest_netdev_stat{interface="\u{FF}x",item="recv_drop"} 5
        kata_guest_netdev_stat{interface="eth9",item="unknown"} 5
        kata_guest_diskstat{disk="vda",item="reads"} 6
        kata_guest_diskstat{disk="vda1",item="reads"} 7
        kata_guest_diskstat{disk="v\\nb",item="sectors_read"} 8
        kata_guest_vm_stat{item="pgfault"} 9
        kata_guest_vm_stat{item="pgfault"} 10
        kata_guest_vm_stat{item="oom_kill",x="y"} 11
        kata_guest_tasks{item="cur"} 3
        kata_hypervisor_fds{x="1"} 100
        kata_hypervisor_fds 20
        kata_virtiofsd_fds 30

        """,
        "# TYPE kata_guest_meminfo summary\nkata_guest_meminfo_sum{item=\"mem_total\"} 7\nkata_guest_meminfo_count{item=\"mem_free\"} 2\n",
    ])
    func relabellingRulesHoldOnBytes(text: String) {
        for labels in Self.identities {
            for configuration in Self.configurations() {
                let target = Collector.CollectionTarget(id: labels.sandboxID, labels: labels, startTime: 2.5)
                let difference = ReferencePipeline.difference(
                    Array(text.utf8), for: target, configuration: configuration)
                #expect(difference == nil, "\(text.debugDescription) under \(labels)")
            }
        }
    }

    /// Values the renderer copies are exactly those it would write: for many doubles, what it writes is
    /// recognised as its own form, and nothing it would re-write is.
    @Test func copiedValuesAreTheRenderersOwnForm() {
        var random = SplitMix64(state: 0xC0FF_EE01)
        var checked = 0
        for index in 0..<20_000 {
            let bits = random.next()
            let value: Double
            switch index % 4 {
            case 0: value = Double(bitPattern: bits)
            case 1: value = Double(Int64(bitPattern: bits) % 10_000_000)
            case 2: value = Double(bits % 1_000_000) / 1_000
            default: value = Double(bits % 100_000) * pow10(Int(bits >> 60) - 8)
            }
            guard value.isFinite else { continue }
            var rendered: [UInt8] = []
            ExpositionRenderer.appendValue(value, to: &rendered)
            let significant = rendered.prefix { $0 != UInt8(ascii: "e") }.filter(ASCII.isDigit).drop { $0 == 0x30 }
            let canonical = rendered.withUnsafeBufferPointer { isCanonicalValue($0) }
            if significant.count <= 15 && abs(value) > 1e-300 && abs(value) < 1e300 || value == 0 {
                #expect(canonical, "\(value) rendered as \(String(decoding: rendered, as: UTF8.self))")
                checked += 1
            }
            // Any text taken as canonical re-renders to itself.
            for variant in [rendered, rendered + [0x30], [0x2B] + rendered, Array("0".utf8) + rendered] {
                guard variant.withUnsafeBufferPointer({ isCanonicalValue($0) }), let parsed = parseValue(variant)
                else { continue }
                var again: [UInt8] = []
                ExpositionRenderer.appendValue(parsed, to: &again)
                #expect(again == variant, "\(String(decoding: variant, as: UTF8.self)) taken as canonical")
            }
        }
        #expect(checked > 10_000)
    }

    private func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(exponent) { result *= 10 }
        return exponent < 0 ? 1 / result : result
    }
}
