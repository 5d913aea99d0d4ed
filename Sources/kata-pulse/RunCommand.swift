import KataPulse
import KataPulseCRI
import KataPulseTLS
import Logging
import NIOCore
import NIOPosix

/// Runs the agent until SIGTERM/SIGINT: `kata-pulse` and `kata-pulse run`.
func runAgent(_ settings: AgentSettings, environment: [String: String]) async throws {
    var configuration = settings.agent
    // Socket activation: serve on what systemd passed instead of binding --listen-address.
    configuration.server.passedListeners = try SystemdListeners.take()
    configuration.systemd = SystemdConfiguration(environment: environment)
    let logger = makeLogger(settings.logging, environment: environment)
    HeapPolicy.mapLargeBuffers()
    // API connections may use the descriptors collection and CRI do not need: a flood of them never makes a
    // shim fetch fail for want of a descriptor.
    let descriptors = DescriptorLimit.raiseSoftLimit()
    let budget = DescriptorLimit.connectionBudget(
        limit: descriptors,
        reserved: DescriptorLimit.reserved(
            shimConcurrency: configuration.collection.concurrency, requestsInFlight: configuration.server.maxRequests),
        requested: configuration.server.maxConnections)
    if budget < configuration.server.maxConnections {
        logger.warning(
            "open-file limit too low for --web.max-connections; serving fewer connections",
            metadata: ["limit": "\(descriptors)", "max_connections": "\(budget)"])
        configuration.server.maxConnections = budget
    }
    logger.info(
        "starting kata-pulse",
        metadata: [
            "version": "\(KataPulseVersion.string)",
            "listen":
                "\(configuration.server.passedListeners.isEmpty ? configuration.server.listenAddress.description : "systemd sockets")",
            "sandbox_roots": "\(configuration.discovery.roots.joined(separator: ":"))",
            "interval_seconds": "\(configuration.collection.interval.components.seconds)",
        ])
    logger.debug(
        "settings",
        metadata: [
            "runtime_endpoint": "\(settings.cri?.socketPath ?? "none")", "log_format": "\(settings.logging.format)",
            "exposition": "\(configuration.collection.exposition)",
        ])
    // A web configuration that cannot be used stops the agent here, before it listens.
    let access = try WebAccess(configuration: configuration.web, tlsProvider: NIOSSLServerProvider())
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let agent: Agent
    do {
        agent = try Agent(
            configuration: configuration, group: group, logger: logger,
            metadataSource: try settings.cri.map { try CRIClient(configuration: $0, group: group) }, access: access,
            tlsClientProvider: NIOSSLClientProvider())
    } catch let error as ClientTLSError {
        throw AgentStartError(description: "\(error.setting.flag) \(error)")
    }
    let result = await Result(catching: { try await agent.run(logger: logger) })
    try? await group.shutdownGracefully()
    try result.get()
    logger.info("stopped")
}

/// The process logger, in the configured format and level, rate-limited per message and sandbox.
func makeLogger(_ settings: LoggingSettings, environment: [String: String]) -> Logger {
    let limiter = LogRateLimiter()
    var logger = Logger(label: "kata-pulse") { _ in
        settings.format.makeHandler(level: settings.level, environment: environment, limiter: limiter)
    }
    logger.logLevel = settings.level
    return logger
}

/// A setting that names a file the agent cannot use, said with its flag.
struct AgentStartError: Error, CustomStringConvertible {
    let description: String
}

extension ClientTLS.Setting {
    /// The flag that sets it.
    var flag: String {
        switch self {
        case .caFile: "--remote-write-tls-ca-file"
        case .certFile: "--remote-write-tls-cert-file"
        case .keyFile: "--remote-write-tls-key-file"
        }
    }
}
