import Synchronization
import Testing

@testable import KataPulse

/// `/healthz`, what Kubernetes' liveness probe asks: it must fail while collection is wedged, as the systemd
/// watchdog's pings stop then.
@Suite struct HealthTests {
    @Test func healthzFailsWhileARoundIsWedgedAndRecovers() async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        let (simulator, _) = try await startSimulator(root: root, sandboxes: 2, faults: [(.hang, 1)])
        defer { Task { await simulator.stop() } }
        let agent = try await RunningAgent.start(roots: [root]) {
            $0.collection.interval = .seconds(1)
            // A shim deadline past the liveness limit: the hung shim keeps each round running 6 s.
            $0.shim.timeout = .seconds(6)
            $0.liveness.maxRoundDuration = .seconds(2)
        }
        defer { Task { await agent.stop() } }
        // The body is read from the 503 itself: the round may end before a second request.
        let unhealthy = Mutex<String?>(nil)
        let wedged = await eventually(timeout: .seconds(30)) {
            guard let response = try? await agent.get("/healthz"), response.status == 503 else { return false }
            unhealthy.withLock { $0 = String(decoding: response.body, as: UTF8.self) }
            return true
        }
        #expect(wedged, "/healthz kept answering 200 while a round was stuck")
        let body = unhealthy.withLock { $0 } ?? ""
        #expect(body.hasPrefix("unhealthy: collection round running for"), "\(body)")
        // The hung shim's deadline ends the round: healthy again until the next round wedges.
        let recovered = await eventually(timeout: .seconds(30)) {
            (try? await agent.get("/healthz").status) == 200
        }
        #expect(recovered)
    }
}
