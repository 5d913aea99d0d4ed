import NIOCore
import NIOHTTP1
import Testing

@testable import KataPulse
@testable import KataPulseSimulator

/// Every endpoint through a real TCP connection to an agent collecting simulated shims.
@Suite struct ServerTests {
    private func withAgent(
        sandboxes: Int = 2, _ body: (RunningAgent, [SimulatedSandbox]) async throws -> Void
    ) async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        let (simulator, started) = try await startSimulator(root: root, sandboxes: sandboxes)
        // No regular round after the first: responses compared across requests stay comparable.
        let agent = try await RunningAgent.start(roots: [root]) { $0.collection.interval = .seconds(3600) }
        #expect(await agent.waitForSnapshot { $0.sandboxes.count == sandboxes && $0.sandboxes.allSatisfy(\.isUp) })
        do {
            try await body(agent, started)
        } catch {
            await agent.stop()
            await simulator.stop()
            throw error
        }
        await agent.stop()
        await simulator.stop()
    }

    @Test func metricsIsValidSortedAndCarriesOwnMetricsFirst() async throws {
        try await withAgent { agent, sandboxes in
            let response = try await agent.get("/metrics")
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            #expect(response.header("Vary") == "Accept-Encoding")
            let families = try ExpositionParser().parse(response.body)
            let names = families.map(\.name)
            // The per-request families (the scrape counters, then the process's), then the snapshot's.
            #expect(
                Array(names.prefix(3)) == [
                    "kata_monitor_running_shim_count", "kata_monitor_scrape_count", "kata_monitor_scrape_failed_count",
                ])
            #expect(
                Array(names.dropFirst(3).prefix(8)) == ProcessMetrics().families.map(\.name) + [
                    "kata_monitor_scrape_durations_histogram_milliseconds"
                ])
            let sandboxFamilies = names.drop { $0.hasPrefix("kata_monitor_") || $0.hasPrefix("kata_pulse_") }
            #expect(Array(sandboxFamilies) == sandboxFamilies.sorted())
            #expect(names.contains("kata_shim_go_goroutines"))
            #expect(!names.contains("go_goroutines"))
            let keys = seriesKeys(families)
            #expect(Set(keys).count == keys.count, "duplicate series in /metrics")
            let threads = try #require(families.first { $0.name == "kata_shim_threads" })
            #expect(
                Set(threads.samples.map { $0.labels.first { $0.name == "sandbox_id" }!.value })
                    == Set(sandboxes.map(\.id)))
            #expect(threads.samples[0].labels.map(\.name) == ["sandbox_id", "cri_uid", "cri_name", "cri_namespace"])
            let running = try #require(families.first { $0.name == "kata_monitor_running_shim_count" })
            #expect(running.samples[0].value == 2)
        }
    }

    @Test func gzipBodyMatchesPlainBody() async throws {
        try await withAgent { agent, _ in
            // Only the scrape counter differs between two requests on the same snapshot; a late
            // collection of a new sandbox can swap the snapshot in between, so compare on a stable one.
            let strip: ([UInt8]) -> [String] = { body in
                String(decoding: body, as: UTF8.self).split(separator: "\n").filter {
                    !$0.hasPrefix("kata_monitor_scrape_count ")
                }.map(String.init)
            }
            var same = false
            var ratio = 0.0
            for _ in 0..<5 where !same {
                let before = agent.agent.store.snapshot
                let plain = try await agent.get("/metrics")
                let gzipped = try await agent.get("/metrics", headers: [("Accept-Encoding", "gzip, deflate")])
                #expect(gzipped.header("Content-Encoding") == "gzip")
                let inflated = try #require(Gzip.decompress(gzipped.body))
                guard agent.agent.store.snapshot === before else { continue }
                same = strip(inflated) == strip(plain.body)
                ratio = Double(plain.body.count) / Double(gzipped.body.count)
            }
            #expect(same, "gzip and plain bodies differ")
            #expect(ratio > 5)
            let refused = try await agent.get("/metrics", headers: [("Accept-Encoding", "gzip;q=0")])
            #expect(refused.header("Content-Encoding") == nil)
        }
    }

    @Test func scrapeCountCountsEveryMetricsRequest() async throws {
        try await withAgent(sandboxes: 1) { agent, _ in
            func count() async throws -> Double {
                let families = try ExpositionParser().parse(try await agent.get("/metrics").body)
                return families.first { $0.name == "kata_monitor_scrape_count" }!.samples[0].value
            }
            let first = try await count()
            _ = try await agent.get("/metrics?sandbox=nope")
            #expect(try await count() == first + 2)
        }
    }

    @Test func sandboxParameter() async throws {
        try await withAgent { agent, sandboxes in
            let one = try await agent.get("/metrics?sandbox=\(sandboxes[0].id)")
            #expect(one.status == 200)
            let families = try ExpositionParser().parse(one.body)
            let ids = Set(families.flatMap(\.samples).compactMap { $0.labels.first { $0.name == "sandbox_id" }?.value })
            #expect(ids == [sandboxes[0].id])
            #expect(try await agent.get("/metrics?sandbox=unknown-id").status == 404)
            #expect(try await agent.get("/metrics?sandbox=..%2Fetc").status == 400)
        }
    }

    @Test func filterFamilyReturnsEachMatchingFamilyOnce() async throws {
        try await withAgent { agent, _ in
            let response = try await agent.get("/metrics?filter_family=kata_guest_cpu,kata_guest,kata_monitor_running")
            let families = try ExpositionParser().parse(response.body)
            let names = families.map(\.name)
            #expect(Set(names).count == names.count)
            #expect(names.contains("kata_guest_cpu_time"))
            #expect(names.contains("kata_monitor_running_shim_count"))
            #expect(names.allSatisfy { $0.hasPrefix("kata_guest") || $0 == "kata_monitor_running_shim_count" })
            let gzipped = try await agent.get(
                "/metrics?filter_family=kata_guest", headers: [("Accept-Encoding", "gzip")])
            #expect(
                try ExpositionParser().parse(#require(Gzip.decompress(gzipped.body))).allSatisfy {
                    $0.name.hasPrefix("kata_guest")
                })
        }
    }

    @Test func sandboxesInTextHTMLAndJSON() async throws {
        try await withAgent { agent, sandboxes in
            let ids = sandboxes.map(\.id).sorted()
            #expect(try await agent.text("/sandboxes") == ids.map { $0 + "\n" }.joined())
            let html = try await agent.text("/sandboxes", headers: [("Accept", "text/html,application/xhtml+xml")])
            #expect(html.hasPrefix("<h1>Sandbox list</h1>"))
            #expect(html.contains("/metrics?sandbox=\(ids[0])"))
            let json = try await agent.get("/sandboxes?format=json")
            #expect(json.header("Content-Type") == "application/json")
            let text = String(decoding: json.body, as: UTF8.self)
            #expect(text.hasPrefix("[{\"id\":\"\(ids[0])\""))
            #expect(text.contains("\"status\":\"up\""))
            let viaAccept = try await agent.text("/sandboxes", headers: [("Accept", "application/json")])
            #expect(viaAccept.hasPrefix("["))
        }
    }

    @Test func agentURL() async throws {
        try await withAgent(sandboxes: 1) { agent, sandboxes in
            let response = try await agent.get("/agent-url?sandbox=\(sandboxes[0].id)")
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self).hasSuffix("\n"))
            #expect(String(decoding: response.body, as: UTF8.self).contains("://"))
            #expect(try await agent.get("/agent-url").status == 400)
            #expect(try await agent.get("/agent-url?sandbox=a%2Fb").status == 400)
            #expect(try await agent.get("/agent-url?sandbox=missing").status == 404)
        }
    }

    @Test func indexHealthzMethodsAndHEAD() async throws {
        try await withAgent(sandboxes: 1) { agent, _ in
            let index = try await agent.text("/")
            #expect(index.hasPrefix("Available HTTP endpoints:\n/metrics"))
            let html = try await agent.get("/", headers: [("Accept", "text/html")])
            #expect(html.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(try await agent.get("/healthz").status == 200)
            #expect(try await agent.get("/nope").status == 404)
            let post = try await agent.get("/metrics", method: .POST)
            #expect(post.status == 405)
            #expect(post.header("Allow") == "GET, HEAD")
            let head = try await agent.get("/metrics", method: .HEAD)
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(Int(head.header("Content-Length") ?? "") ?? 0 > 1000)
        }
    }

    @Test func oversizedRequestHeadIsRefused() async throws {
        try await withAgent(sandboxes: 1) { agent, _ in
            let response = try await agent.get(
                "/metrics", headers: [("X-Filler", String(repeating: "x", count: 20_000))])
            #expect(response.status == 431)
        }
    }
}

/// `--exposition`: kata-monitor's families, cAdvisor's, or both, always with the agent's own.
@Suite struct ExpositionSelectionTests {
    @Test(arguments: [ExpositionSet.all, .kata, .cadvisor])
    func publishesTheSelectedSeries(exposition: ExpositionSet) async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        let (simulator, sandboxes) = try await startSimulator(root: root, sandboxes: 2, flavors: [.go, .rust])
        let agent = try await RunningAgent.start(roots: [root]) { $0.collection.exposition = exposition }
        #expect(await agent.waitForSnapshot { $0.sandboxes.count == 2 && $0.sandboxes.allSatisfy(\.isUp) })
        let families = try ExpositionParser().parse(try await agent.get("/metrics").body)
        let names = Set(families.map(\.name))
        #expect(names.contains("kata_monitor_scrape_count") && names.contains("kata_pulse_sandbox_up"))
        #expect(names.contains("kata_guest_meminfo") == exposition.contains(.kata))
        #expect(names.contains("container_memory_working_set_bytes") == exposition.contains(.cadvisor))
        if exposition.contains(.cadvisor) {
            let workingSet = try #require(families.first { $0.name == "container_memory_working_set_bytes" })
            #expect(Set(workingSet.samples.compactMap { $0.label("id") }) == Set(sandboxes.map { "/kata/\($0.id)" }))
            #expect(workingSet.samples.allSatisfy { $0.label("sandbox_id") == nil })
            #expect(workingSet.type == .gauge)
        }
        let keys = seriesKeys(families)
        #expect(Set(keys).count == keys.count)
        await agent.stop()
        await simulator.stop()
    }
}
