import KataPulse
import KataPulseSimulator
import Logging
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// `kata-pulse simulate`: simulated Kata shims under a root, until killed; prints each sandbox's ground truth.
func runSimulator(_ configuration: ShimSimulator.Configuration) async throws {
    let logger = makeLogger(LoggingSettings(level: .info, format: .logfmt), environment: [:])
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let simulator = ShimSimulator(configuration: configuration, group: group)
    let service = SimulatorService(simulator: simulator, logger: logger, announce: true)
    let serviceGroup = ServiceGroup(
        configuration: .init(
            services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    let result = await Result(catching: { try await serviceGroup.run() })
    try? await group.shutdownGracefully()
    try result.get()
}

/// Runs a simulator as a service: starts its shims (unless already started), waits for shutdown, removes them.
struct SimulatorService: Service {
    let simulator: ShimSimulator
    let logger: Logger
    let announce: Bool
    var alreadyStarted = false

    func run() async throws {
        let sandboxes = alreadyStarted ? simulator.sandboxes : try await simulator.start()
        if announce {
            for sandbox in sandboxes {
                let truth = sandbox.groundTruth
                print(
                    "\(sandbox.id) \(sandbox.flavor.rawValue) \(sandbox.fault?.rawValue ?? "-") \(sandbox.socketPath)"
                        + " cpu_cores=\(truth.cpuCores) working_set_bytes=\(Int(truth.workingSetBytes))"
                        + " receive_bytes_per_second=\(truth.networkReceiveBytesPerSecond)"
                        + " transmit_bytes_per_second=\(truth.networkTransmitBytesPerSecond)")
                fflush(nil)  // stdout may be a pipe: show each line at once
            }
        }
        logger.info("simulated shims serving", metadata: ["sandboxes": "\(sandboxes.count)"])
        // Returns on graceful shutdown, or throws on cancellation; either way the shims go away.
        try? await gracefulShutdown()
        await simulator.stop()
    }
}
