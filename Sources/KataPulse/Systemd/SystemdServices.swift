import Logging
import NIOCore
import ServiceLifecycle

/// The services that talk to systemd, for what it asked: readiness and status, and watchdog pings.
enum SystemdServices {
    static func make(
        _ configuration: SystemdConfiguration, registry: SandboxRegistry, listening: AsyncStream<[ListenAddress]>,
        rounds: AsyncStream<RoundSummary>, criHealth: CRIHealth?, progress: CollectionProgress,
        group: any EventLoopGroup, logger: Logger
    ) -> [any Service] {
        let notifier = configuration.notifier
        guard notifier.isEnabled else { return [] }
        var services: [any Service] = [
            SystemdReadiness(
                notifier: notifier, registry: registry, listening: listening, rounds: rounds, criHealth: criHealth)
        ]
        if let interval = configuration.watchdogInterval {
            services.append(
                SystemdWatchdog(
                    notifier: notifier, interval: interval, progress: progress, group: group, logger: logger))
        }
        return services
    }
}
