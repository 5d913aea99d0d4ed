import KataPulse
import KataPulseSimulator
import KataPulseTLS
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// `kata-pulse demo`: a simulated node and the agent on it, in one process; prints the URL to open.
func runDemo(_ settings: DemoSettings, environment: [String: String]) async throws {
    var template = Array("/tmp/kpdemo-XXXXXX".utf8CString)
    guard let pointer = mkdtemp(&template) else {
        throw UsageError(description: "cannot create a temporary directory")
    }
    let root = String(cString: pointer)
    defer { rmdir(root) }
    var configuration = settings.agent.agent
    configuration.discovery.roots = [root]
    var simulation = settings.simulation
    simulation.root = root
    let logger = makeLogger(settings.agent.logging, environment: environment)
    HeapPolicy.mapLargeBuffers()
    let access = try WebAccess(configuration: configuration.web, tlsProvider: NIOSSLServerProvider())
    let scheme = access.servesTLS ? "https" : "http"
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    // The simulated shims get loops of their own, as real shims are processes of their own.
    let shimGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let simulator = ShimSimulator(configuration: simulation, group: shimGroup)
    // Shims first, so the agent's first look finds every socket in place.
    try await simulator.start()
    let sandboxes = simulation.sandboxes
    let agent = try Agent(configuration: configuration, group: group, logger: logger, access: access) { addresses in
        guard let address = addresses.first else { return }
        let url: String =
            switch address {
            case .tcp(let host, let port): "\(scheme)://\(HostPort.spelled(host, port))/"
            case .unix(let path): "unix:\(path)"
            }
        print("KataPulse demo: \(sandboxes) simulated sandboxes under \(root)")
        print("Open \(url)  (metrics: \(url)metrics, sandboxes: \(url)sandboxes). Ctrl-C stops.")
        fflush(nil)  // stdout may be a pipe: show each line at once
    }
    let result = await Result(catching: {
        try await agent.run(
            logger: logger,
            extraServices: [
                SimulatorService(simulator: simulator, logger: logger, announce: false, alreadyStarted: true)
            ]
        )
    })
    try? await group.shutdownGracefully()
    try? await shimGroup.shutdownGracefully()
    try result.get()
}
