import ArgumentParser
import KataPulse
import Logging
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// `kata-pulse simulate`: simulated Kata shims, until killed.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Serve simulated Kata shims under a sandbox root until killed (for trying and testing KataPulse).")

    @Option(help: "The sandbox root to create sandboxes under, e.g. /run/vc/sbs.")
    var root: String

    @OptionGroup var simulation: SimulationOptions

    func run() async throws {
        let configuration = try simulation.configuration(root: root)
        let logger = makeLogger(level: .info)
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
}

/// Options shared by `simulate` and `demo`.
struct SimulationOptions: ParsableArguments {
    @Option(help: "Number of simulated sandboxes.")
    var sandboxes: Int = 3

    @Option(help: "Comma-separated sandbox ids to use first (others are generated).")
    var ids: String?

    @Option(help: "Shim flavor: go, rust or mixed.")
    var flavor: String = "go"

    @Option(
        help:
            "Faults, MODE:COUNT,… with MODE one of hang, slow, garbage, huge, reset, status500, conflict, inject, bomb; one sandbox each."
    )
    var faults: String = ""

    @Option(help: "Seed for ids and values.")
    var seed: UInt64 = 1

    func configuration(root: String) throws(UsageError) -> ShimSimulator.Configuration {
        guard root.hasPrefix("/") else {
            throw UsageError(description: "invalid value '\(root)' for --root: expected an absolute path")
        }
        guard (0...10_000).contains(sandboxes) else {
            throw UsageError(description: "invalid value '\(sandboxes)' for --sandboxes: expected 0 to 10000")
        }
        guard let flavor = SimulatedFlavor(rawValue: flavor) else {
            throw UsageError(description: "invalid value '\(flavor)' for --flavor: expected go, rust or mixed")
        }
        let ids = ids.map { $0.split(separator: ",").map(String.init) } ?? []
        for id in ids where !SandboxID.isValid(id) {
            throw UsageError(description: "invalid value '\(id)' for --ids: not a valid sandbox id")
        }
        let parsed: [(SimulatedFault, Int)]
        switch ShimSimulator.Configuration.parseFaults(faults) {
        case .success(let value): parsed = value
        case .failure(let error): throw UsageError(description: "invalid value for --faults: \(error)")
        }
        return ShimSimulator.Configuration(
            root: root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root, sandboxes: sandboxes,
            ids: ids, flavor: flavor, faults: parsed, seed: seed)
    }
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
