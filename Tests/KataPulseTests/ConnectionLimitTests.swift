import Testing

@testable import KataPulse
@testable import KataPulseSimulator

/// The serving edge against clients that hold connections, drip request heads or flood requests.
@Suite struct ConnectionLimitTests {
    @Test func pastTheCapTheLongestIdleConnectionMakesRoom() async throws {
        let tmp = TemporaryDirectory()
        let agent = try await RunningAgent.start(roots: [tmp.subdirectory("sbs")]) {
            $0.server.maxConnections = 8
            // Idle connections that never send a head: only eviction may close them, however slow the machine.
            $0.server.readHeaderTimeout = .seconds(600)
        }
        defer { Task { await agent.stop() } }
        var idle: [RawConnection] = []
        for count in 1...8 {
            idle.append(try RawConnection(port: agent.port))
            // One at a time: connections accepted at the same moment on different loops have no order.
            #expect(await eventually { agent.agent.limiter.openConnections == count })
        }
        let response = try await agent.get("/metrics")
        #expect(response.status == 200)
        #expect(await eventually { agent.agent.limiter.count(.evicted) >= 1 })
        // The oldest idler goes (its close may take a moment on a loaded machine); the others stay.
        #expect(await idle[0].closedByPeer(within: .seconds(10)))
        var closedOthers: [Int] = []
        for (index, connection) in idle.enumerated().dropFirst()
        where await connection.closedByPeer(within: .milliseconds(100)) {
            closedOthers.append(index)
        }
        #expect(closedOthers == [], "closed: \(closedOthers)")
        #expect(agent.agent.limiter.openConnections <= 8)
    }

    @Test func aHeadThatDripsIsCutOffButAQuietKeepAliveIsNot() async throws {
        let tmp = TemporaryDirectory()
        let agent = try await RunningAgent.start(roots: [tmp.subdirectory("sbs")]) {
            // Not shorter: on a loaded machine a loop can be late to read a head that arrived whole in time.
            $0.server.readHeaderTimeout = .seconds(2)
        }
        defer { Task { await agent.stop() } }
        let dripping = try RawConnection(port: agent.port)
        dripping.send("GET /metrics HTTP/1.1\r\nHost: x\r\n")
        let keptAlive = try RawConnection(port: agent.port)
        keptAlive.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        // A generous wait: with the whole suite running the first answer can be slow (latency is not tested here).
        #expect(await keptAlive.read(until: "ok\n", timeout: .seconds(60)).hasPrefix("HTTP/1.1 200"))
        // Bytes keep coming, but the head never ends: cut at the deadline.
        let started = ContinuousClock.now
        var cut = false
        while ContinuousClock.now - started < .seconds(20) {
            dripping.send("X-Drip: 1\r\n")
            if await dripping.closedByPeer(within: .milliseconds(100)) {
                cut = true
                break
            }
        }
        #expect(cut, "a head dripped byte by byte was never cut off")
        #expect(agent.agent.limiter.count(.headTimeout) == 1)
        // The kept-alive connection waits for its next request under the idle timeout, not the head deadline.
        #expect(!(await keptAlive.closedByPeer(within: .seconds(1))))
        keptAlive.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await keptAlive.read(until: "ok\n").hasPrefix("HTTP/1.1 200"))
    }

    @Test func pastTheRequestLimitTheAnswerIs503() async throws {
        try await withARequestInFlight({ $0.server.maxRequests = 1 }) { agent in
            let rejected = try await agent.get("/healthz")
            #expect(rejected.status == 503)
            #expect(
                String(decoding: rejected.body, as: UTF8.self)
                    == "Limit of concurrent requests reached (1), try again later.\n")
        }
    }

    @Test func whenEveryConnectionIsBusyANewOneIsRefusedAndServingGoesOn() async throws {
        try await withARequestInFlight({ $0.server.maxConnections = 1 }) { agent in
            let refused = try RawConnection(port: agent.port)
            #expect(await refused.closedByPeer(within: .seconds(5)))
            #expect(agent.agent.limiter.count(.refused) == 1)
        }
    }

    /// Runs `body` while one request is being answered: `/agent-url` asks a hung shim live and holds its
    /// connection and its slot until the shim deadline. Afterwards that request got its 502 and the server
    /// answers again.
    private func withARequestInFlight(
        _ configure: (inout AgentConfiguration) -> Void, _ body: (RunningAgent) async throws -> Void
    ) async throws {
        let tmp = TemporaryDirectory()
        let root = tmp.subdirectory("sbs")
        let (simulator, sandboxes) = try await startSimulator(root: root, sandboxes: 1, faults: [(.hang, 1)])
        defer { Task { await simulator.stop() } }
        let agent = try await RunningAgent.start(roots: [root]) {
            $0.shim.timeout = .seconds(4)
            configure(&$0)
        }
        defer { Task { await agent.stop() } }
        #expect(await agent.waitForSnapshot { $0.sandboxes.count == 1 })
        let slow = Task { try await agent.get("/agent-url?sandbox=\(sandboxes[0].id)", timeout: .seconds(60)) }
        #expect(await eventually { agent.agent.limiter.requestsInFlight == 1 })
        try await body(agent)
        #expect(try await slow.value.status == 502)
        #expect(await eventually { (try? await agent.get("/healthz").status) == 200 })
    }
}
