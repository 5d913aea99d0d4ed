import Foundation
import Testing

@testable import KataPulse

/// kata-monitor's own process families (`kata_monitor_process_*`), which the upstream Kata dashboard graphs.
@Suite struct ProcessMetricsTests {
    private func value(_ families: [MetricFamily], _ name: String) -> Double? {
        families.first { $0.name == name }?.samples.first?.value
    }

    @Test func statFieldsAreCountedAfterTheLastParenthesis() throws {
        // A command name with spaces and parentheses, as a process may name itself.
        let line =
            "4242 (kata pulse) (x)) S 1 4242 4242 0 -1 4194560 1510 0 3 0 157 43 0 0 20 0 9 0 123456 "
            + "1215528960 7665 18446744073709551615 1 1 0 0 0 0 0 4096 17475 0 0 0 17 1 0 0 0 0 0\n"
        let stat = try #require(ProcessReading.Stat(line))
        #expect(stat.userTicks == 157)
        #expect(stat.systemTicks == 43)
        #expect(stat.startTicks == 123_456)
        #expect(stat.virtualBytes == 1_215_528_960)
        #expect(stat.residentPages == 7_665)
        #expect(ProcessReading.Stat("4242 (truncated) S 1 2") == nil)
        #expect(ProcessReading.Stat("no parenthesis at all") == nil)
    }

    @Test func theReadingIsThisProcess() throws {
        let metrics = ProcessMetrics(maximumAge: .zero)
        let before = metrics.families
        #expect(
            before.map(\.name) == [
                "kata_monitor_process_cpu_seconds_total", "kata_monitor_process_max_fds",
                "kata_monitor_process_open_fds", "kata_monitor_process_resident_memory_bytes",
                "kata_monitor_process_start_time_seconds", "kata_monitor_process_virtual_memory_bytes",
                "kata_monitor_process_virtual_memory_max_bytes",
            ])
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        #expect(value(before, "kata_monitor_process_max_fds") == Double(limit.rlim_cur))
        let opened = (0..<20).map { _ in open("/dev/null", O_RDONLY) }
        defer { opened.forEach { close($0) } }
        let after = metrics.families
        let openBefore = try #require(value(before, "kata_monitor_process_open_fds"))
        let openAfter = try #require(value(after, "kata_monitor_process_open_fds"))
        // Other tests open and close descriptors meanwhile; twenty more of ours stand out.
        #expect(openAfter >= openBefore + 10, "\(openBefore) → \(openAfter)")
        let resident = try #require(value(after, "kata_monitor_process_resident_memory_bytes"))
        #expect(resident > 1_000_000)
        #expect(try #require(value(after, "kata_monitor_process_virtual_memory_bytes")) > resident)
        #expect(try #require(value(after, "kata_monitor_process_cpu_seconds_total")) > 0)
        // This test process started before the test did, and not before the machine booted.
        let start = try #require(value(after, "kata_monitor_process_start_time_seconds"))
        let now = Date().timeIntervalSince1970
        #expect(start <= now && start > now - ProcessInfo.processInfo.systemUptime - 1)
        #expect(value(metrics.families, "kata_monitor_process_start_time_seconds") == start)
    }

    @Test func readingsAreCachedForTheirMaximumAge() {
        let metrics = ProcessMetrics(maximumAge: .seconds(3600))
        let first = value(metrics.families, "kata_monitor_process_open_fds")
        let opened = (0..<20).map { _ in open("/dev/null", O_RDONLY) }
        defer { opened.forEach { close($0) } }
        #expect(value(metrics.families, "kata_monitor_process_open_fds") == first)
    }

    /// Names, types and HELP exactly as kata-monitor 3.5.0 serves them, after its own families.
    @Test func servedWithKataMonitorsNamesAndHelp() async throws {
        let tmp = TemporaryDirectory()
        let agent = try await RunningAgent.start(roots: [tmp.subdirectory("sbs")])
        defer { Task { await agent.stop() } }
        let body = String(decoding: try await agent.get("/metrics").body, as: UTF8.self)
        let expected = """
            # HELP kata_monitor_process_cpu_seconds_total Total user and system CPU time spent in seconds.
            # TYPE kata_monitor_process_cpu_seconds_total counter
            # HELP kata_monitor_process_max_fds Maximum number of open file descriptors.
            # TYPE kata_monitor_process_max_fds gauge
            # HELP kata_monitor_process_open_fds Number of open file descriptors.
            # TYPE kata_monitor_process_open_fds gauge
            # HELP kata_monitor_process_resident_memory_bytes Resident memory size in bytes.
            # TYPE kata_monitor_process_resident_memory_bytes gauge
            # HELP kata_monitor_process_start_time_seconds Start time of the process since unix epoch in seconds.
            # TYPE kata_monitor_process_start_time_seconds gauge
            # HELP kata_monitor_process_virtual_memory_bytes Virtual memory size in bytes.
            # TYPE kata_monitor_process_virtual_memory_bytes gauge
            # HELP kata_monitor_process_virtual_memory_max_bytes Maximum amount of virtual memory available in bytes.
            # TYPE kata_monitor_process_virtual_memory_max_bytes gauge
            """.split(separator: "\n").map(String.init)
        let headers = body.split(separator: "\n").filter { $0.hasPrefix("# ") && $0.contains("kata_monitor_process_") }
        #expect(headers.map(String.init) == expected)
        // After kata-monitor's own families, before the collection's.
        let lines = body.split(separator: "\n")
        let process = try #require(lines.firstIndex { $0.hasPrefix("kata_monitor_process_cpu_seconds_total ") })
        let running = try #require(lines.firstIndex { $0.hasPrefix("kata_monitor_running_shim_count ") })
        let rounds = try #require(lines.firstIndex { $0.hasPrefix("kata_pulse_collection_rounds_total ") })
        #expect(running < process && process < rounds)
        // Families a filter does not ask for stay out, as every other own family does.
        let filtered = String(
            decoding: try await agent.get("/metrics?filter_family=kata_monitor_process_open").body, as: UTF8.self)
        #expect(
            filtered.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ")[0] } == [
                "kata_monitor_process_open_fds"
            ])
    }
}
