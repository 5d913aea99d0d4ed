import Foundation
import Testing

@testable import KataPulse
@testable import KataPulseCRI

/// cAdvisor's per-container rows for Kata pods, from CRI `ListContainers` and `ListContainerStats`: what
/// kubernetes-mixin's dashboards select (`container!="", image!=""`).
@Suite struct ContainerUsageTests {
    private func samples(_ families: [MetricFamily], _ name: String, container: String) -> [Sample] {
        families.first { $0.name == name }?.samples.filter { $0.label("container") == container } ?? []
    }

    @Test func rowsHaveCadvisorsNamesLabelsAndExactUnits() throws {
        let usage = ContainerUsage(
            container: .init(
                id: "c1", sandboxID: "sb", name: "app", image: "docker.io/library/nginx:1.27",
                createdAt: 1_764_000_100.25),
            stats: .init(
                cpuNanoseconds: 1_234_567_890_123, workingSetBytes: 10_485_760, usageBytes: 12_582_912,
                rssBytes: 8_388_608, pageFaults: 1_000, majorPageFaults: 3, swapBytes: 0, writableLayerBytes: 4_096,
                writableLayerMountpoint: "/var/lib/containerd"))
        let families = CadvisorContainerMapper.map(
            [usage], sandboxID: "sb", namespace: "team-a", pod: "web-0", now: 1_764_000_200)
        let body = String(decoding: ExpositionRenderer.render(families), as: UTF8.self)
        let identity = #"container="app","#
        let rest = #"id="/kata/sb/c1",image="docker.io/library/nginx:1.27",name="c1",namespace="team-a",pod="web-0""#
        // Values as Go writes them (the kubelet's format).
        for line in [
            #"container_cpu_usage_seconds_total{\#(identity)cpu="total",\#(rest)} 1234.567890123"#,
            #"container_memory_working_set_bytes{\#(identity)\#(rest)} 1.048576e+07"#,
            #"container_memory_usage_bytes{\#(identity)\#(rest)} 1.2582912e+07"#,
            #"container_memory_rss{\#(identity)\#(rest)} 8.388608e+06"#,
            #"container_memory_swap{\#(identity)\#(rest)} 0"#,
            #"container_memory_failures_total{\#(identity)failure_type="pgmajfault",\#(rest),scope="container"} 3"#,
            #"container_memory_failures_total{\#(identity)failure_type="pgfault",\#(rest),scope="hierarchy"} 1000"#,
            #"container_fs_usage_bytes{\#(identity)device="/var/lib/containerd",\#(rest)} 4096"#,
            #"container_start_time_seconds{\#(identity)\#(rest)} 1.76400010025e+09"#,
            #"container_last_seen{\#(identity)\#(rest)} 1.7640002e+09"#,
        ] {
            #expect(body.contains(line + "\n"), "missing: \(line)")
        }
        // Every family is the catalog's (HELP and TYPE as the kubelet writes them), with its label set.
        for family in families {
            let entry = try #require(CadvisorCatalog.all.first { $0.name == family.name })
            #expect(family.help == entry.help && family.type == entry.type)
            #expect(family.samples.allSatisfy { $0.labels.map(\.name) == entry.labelNames })
        }
        // What the runtime did not report is left out, not zero.
        let bare = CadvisorContainerMapper.map(
            [ContainerUsage(container: usage.container, stats: .init(cpuNanoseconds: 5))], sandboxID: "sb",
            namespace: "", pod: "", now: 1)
        #expect(
            bare.map(\.name) == [
                "container_cpu_usage_seconds_total", "container_last_seen", "container_start_time_seconds",
            ])
    }

    @Test func joinKeepsRunningContainersWithStats() {
        let containers: [ContainerUsage.Container] = [
            .init(id: "b", sandboxID: "sb1", name: "web", image: "i"),
            .init(id: "a", sandboxID: "sb1", name: "web", image: "i"),
            .init(id: "c", sandboxID: "sb2", name: "db", image: "i"),
            .init(id: "no-stats", sandboxID: "sb2", name: "x", image: "i"),
            .init(id: "", sandboxID: "sb2", name: "y", image: "i"),
        ]
        let stats: [String: ContainerUsage.Stats] = ["a": .init(), "b": .init(), "c": .init(), "": .init()]
        let joined = ContainerUsage.bySandbox(containers: containers, stats: stats)
        #expect(joined.mapValues { $0.map(\.container.id) } == ["sb1": ["a", "b"], "sb2": ["c"]])
    }

    /// A Kata pod with two containers beside a runc pod: only the Kata pod's containers are published, with
    /// the pod's labels; a container that goes leaves; a failed stats call keeps the rows for the interval,
    /// then they are withdrawn (counted) and return with the runtime.
    @Test func aKataPodsContainersThroughARealGRPCRuntime() async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        let (simulator, sandboxes) = try await startSimulator(root: root, sandboxes: 1)
        defer { Task { await simulator.stop() } }
        let kata = sandboxes[0].id
        let server = TestCRIServer(socketPath: "\(tmp.path)/cri.sock")
        server.addSandbox(id: kata, uid: "uid-1", name: "web-0", namespace: "team-a")
        server.addSandbox(id: "runc-pod", uid: "uid-2", name: "other", namespace: "team-b", handler: "")
        server.setContainer(
            id: "c-app", sandboxID: kata, name: "app", image: "sha256:abc",
            userSpecifiedImage: "docker.io/library/nginx:1.27", cpuNanoseconds: 1_234_567_890_123,
            workingSet: 10_485_760, usage: 12_582_912, rss: 8_388_608, pageFaults: 1_000, majorPageFaults: 3,
            writableLayer: 4_096)
        server.setContainer(
            id: "c-sidecar", sandboxID: kata, name: "sidecar", image: "docker.io/library/busybox:1.36",
            cpuNanoseconds: 500_000_000, workingSet: 1_048_576)
        server.setContainer(id: "c-done", sandboxID: kata, name: "init", image: "busybox", running: false)
        server.setContainer(id: "c-runc", sandboxID: "runc-pod", name: "db", image: "postgres", cpuNanoseconds: 9)
        try await server.start()
        defer { Task { await server.stop() } }
        let agent = try await RunningAgent.start(
            roots: [root], cri: CRIClient.Configuration(socketPath: server.socketPath, timeout: .seconds(20))
        ) {
            $0.collection.interval = .seconds(2)
        }
        defer { Task { await agent.stop() } }
        let body = { String(decoding: agent.agent.store.snapshot.body, as: UTF8.self) }
        #expect(
            await eventually(timeout: .seconds(30)) {
                body().contains(#"container="sidecar""#) && body().contains(#"cri_name="web-0""#)
            })
        let families = try ExpositionParser().parse(try await agent.get("/metrics").body)
        let app = try #require(samples(families, "container_cpu_usage_seconds_total", container: "app").first)
        #expect(app.value == 1_234.567890123)
        #expect(
            app.labels == [
                Label("container", "app"), Label("cpu", "total"), Label("id", "/kata/\(kata)/c-app"),
                Label("image", "docker.io/library/nginx:1.27"), Label("name", "c-app"),
                Label("namespace", "team-a"), Label("pod", "web-0"),
            ])
        #expect(samples(families, "container_memory_working_set_bytes", container: "sidecar").first?.value == 1_048_576)
        #expect(samples(families, "container_memory_rss", container: "sidecar").isEmpty)
        #expect(samples(families, "container_fs_usage_bytes", container: "app").first?.value == 4_096)
        #expect(samples(families, "container_start_time_seconds", container: "app").first?.value == 1_764_000_100.25)
        // The pod-level row stays, as the kubelet publishes both.
        #expect(samples(families, "container_cpu_usage_seconds_total", container: "").count == 1)
        // Not the runc pod's, not an exited container.
        let all = families.flatMap(\.samples)
        #expect(!all.contains { $0.label("name") == "c-runc" || $0.label("name") == "c-done" })

        server.removeContainer(id: "c-sidecar")
        #expect(await eventually(timeout: .seconds(30)) { !body().contains(#"container="sidecar""#) })

        let before = server.statsCalls
        server.statsBehaviour = .fail(.unavailable)
        #expect(await eventually(timeout: .seconds(30)) { server.statsCalls > before })
        #expect(body().contains(#"container="app""#), "the rows went at the first failure")
        #expect(await eventually(timeout: .seconds(30)) { !body().contains(#"container="app""#) })
        #expect(body().contains(#"kata_pulse_cri_call_errors_total{method="ListContainerStats",code="Unavailable"}"#))
        // The runtime still answers pod metadata: reachable, and the status line has nothing to say.
        #expect(body().contains("kata_pulse_cri_up 1\n"))
        #expect(agent.agent.criHealth?.problem == nil)
        #expect(body().contains(#"container_cpu_usage_seconds_total{container="",cpu="total""#))
        server.statsBehaviour = .answer
        #expect(await eventually(timeout: .seconds(30)) { body().contains(#"container="app""#) })
    }

    @Test func turnedOffNothingIsAsked() async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        let (simulator, sandboxes) = try await startSimulator(root: root, sandboxes: 1)
        defer { Task { await simulator.stop() } }
        let server = TestCRIServer(socketPath: "\(tmp.path)/cri.sock")
        server.addSandbox(id: sandboxes[0].id, uid: "uid-1", name: "web-0", namespace: "team-a")
        server.setContainer(id: "c-app", sandboxID: sandboxes[0].id, name: "app", image: "nginx", cpuNanoseconds: 1)
        try await server.start()
        defer { Task { await server.stop() } }
        let agent = try await RunningAgent.start(
            roots: [root], cri: CRIClient.Configuration(socketPath: server.socketPath, timeout: .seconds(20))
        ) {
            $0.collection.cadvisor.containers = false
        }
        defer { Task { await agent.stop() } }
        #expect(
            await agent.waitForSnapshot(timeout: .seconds(30)) {
                String(decoding: $0.body, as: UTF8.self).contains(#"cri_name="web-0""#)
            })
        #expect(server.statsCalls == 0)
        #expect(!String(decoding: agent.agent.store.snapshot.body, as: UTF8.self).contains(#"container="app""#))
    }
}
