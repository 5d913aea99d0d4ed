import ArgumentParser
import KataPulse
import KataPulseCRI
import Logging
import NIOCore
import NIOPosix

/// `kata-pulse run`: the agent.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the agent (what kata-pulse does without a subcommand).")

    @OptionGroup var options: AgentOptions

    func run() async throws {
        try await runAgent(options)
    }
}

/// Resolves the options and runs the agent until SIGTERM/SIGINT.
func runAgent(_ options: AgentOptions) async throws {
    let environment = processEnvironment()
    var configuration = try options.resolve(environment: environment)
    // Socket activation: serve on what systemd passed instead of binding --listen-address.
    configuration.passedListeners = try SystemdListeners.take()
    let logger = makeLogger(level: configuration.logLevel, format: configuration.logFormat, environment: environment)
    logger.info(
        "starting kata-pulse",
        metadata: [
            "version": "\(KataPulseVersion.string)",
            "listen":
                "\(configuration.passedListeners.isEmpty ? configuration.listenAddress.description : "systemd sockets")",
            "sandbox_roots": "\(configuration.sandboxRoots.joined(separator: ":"))",
            "interval_seconds": "\(configuration.metricsInterval.components.seconds)",
        ])
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let agent = Agent(
        configuration: configuration, group: group, logger: logger,
        metadataSource: try criClient(configuration, group: group),
        notifier: SystemdNotifier(environment: environment), watchdogInterval: SystemdNotifier.watchdogInterval())
    let result = await Result(catching: { try await agent.run(logger: logger) })
    try? await group.shutdownGracefully()
    try result.get()
    logger.info("stopped")
}

/// The process logger, in the configured format and level, rate-limited per message and sandbox.
func makeLogger(level: Logger.Level, format: LogFormat = .logfmt, environment: [String: String] = [:]) -> Logger {
    let limiter = LogRateLimiter()
    var logger = Logger(label: "kata-pulse") { _ in
        format.makeHandler(level: level, environment: environment, limiter: limiter)
    }
    logger.logLevel = level
    return logger
}

/// The CRI client for `--runtime-endpoint`, or nil when CRI is off (`none`).
func criClient(_ configuration: AgentConfiguration, group: any EventLoopGroup) throws -> CRIClient? {
    guard let endpoint = configuration.runtimeEndpoint else { return nil }
    return try CRIClient(configuration: .init(socketPath: endpoint, timeout: configuration.criTimeout), group: group)
}
