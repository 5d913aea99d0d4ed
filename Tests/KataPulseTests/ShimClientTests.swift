import NIOCore
import Testing

@testable import KataPulse
@testable import KataPulseSimulator

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ShimClientTests {
    let client: ShimClient = {
        var configuration = ShimClient.Configuration()
        // Room for the simulator's loops, which other tests share and may keep busy building 100,000-series
        // bodies: a reset shim must be seen closing within it, and a hung one still fails well within 10 s.
        configuration.timeout = .seconds(5)
        configuration.maxBodySize = 4 * 1024 * 1024
        return ShimClient(configuration: configuration, group: testGroup)
    }()

    @Test func readsChunkedAndContentLengthBodies() async throws {
        let tmp = TemporaryDirectory()
        let (simulator, sandboxes) = try await startSimulator(
            root: tmp.subdirectory("sbs"), sandboxes: 2, flavors: [.go, .rust])
        defer { Task { await simulator.stop() } }
        for sandbox in sandboxes {
            let body = try await client.metrics(socketPath: sandbox.socketPath)
            let families = try ExpositionParser().parse(body)
            #expect(families.count > 10, "\(sandbox.flavor) body has \(families.count) families")
            let url = try await client.agentURL(socketPath: sandbox.socketPath)
            #expect(url.contains("://"))
        }
        await simulator.stop()
    }

    @Test(arguments: [
        (SimulatedFault.hang, ScrapeFailureReason.timeout),
        (.slow, .timeout),
        (.reset, .read),
        (.huge, .bodyTooLarge),
        (.status500, .httpStatus),
    ])
    func faultsFailWithTheirReasonWithinTheDeadline(fault: SimulatedFault, reason: ScrapeFailureReason) async throws {
        let tmp = TemporaryDirectory()
        let (simulator, sandboxes) = try await startSimulator(
            root: tmp.subdirectory("sbs"), sandboxes: 1, faults: [(fault, 1)])
        let started = ContinuousClock.now
        await #expect {
            _ = try await client.metrics(socketPath: sandboxes[0].socketPath)
        } throws: { error in
            (error as? ShimError)?.reason == reason
        }
        // The deadline bounds every failure: a guard against hangs, with room for a loaded 2-core machine.
        #expect(ContinuousClock.now - started < .seconds(10))
        await simulator.stop()
    }

    @Test func missingSocketIsAConnectError() async throws {
        let tmp = TemporaryDirectory()
        await #expect {
            _ = try await client.metrics(socketPath: "\(tmp.path)/nothing/shim-monitor.sock")
        } throws: { error in
            (error as? ShimError)?.reason == .connect
        }
    }

    /// Every length around the socket address limits (NIO's 103 bytes, Linux's 107) is reachable.
    @Test(arguments: 98...112)
    func socketPathsOfEveryLengthAreReachable(length: Int) async throws {
        let tmp = TemporaryDirectory()
        let directory = String(repeating: "d", count: length - tmp.path.utf8.count - "//shim-monitor.sock".count)
        let path = "\(tmp.subdirectory(directory))/shim-monitor.sock"
        #expect(path.utf8.count == length)
        let (simulator, _) = try await startSimulator(root: tmp.subdirectory("sbs"), sandboxes: 0)
        try await simulator.add(SimulatedSandbox(id: "s", flavor: .go, fault: nil, socketPath: path))
        let body = try await client.metrics(socketPath: path)
        #expect(!body.isEmpty)
        await simulator.stop()
    }

    @Test func longSocketPathsAreReachable() async throws {
        let tmp = TemporaryDirectory()
        let id = String(repeating: "a", count: 120)
        let (simulator, sandboxes) = try await startSimulator(
            root: tmp.subdirectory("sbs"), sandboxes: 0, ids: [])
        _ = sandboxes
        // Bind at a short path, then reach it through a long path of the same directory.
        let shortDirectory = tmp.subdirectory("s")
        try await simulator.add(
            SimulatedSandbox(id: "s", flavor: .go, fault: nil, socketPath: "\(shortDirectory)/shim-monitor.sock"))
        let longLink = "\(tmp.path)/\(id)"
        #expect(symlinkPath(shortDirectory, longLink))
        let body = try await client.metrics(socketPath: "\(longLink)/shim-monitor.sock")
        #expect(!body.isEmpty)
        await simulator.stop()
    }
}

private func symlinkPath(_ target: String, _ link: String) -> Bool {
    symlink(target, link) == 0
}
