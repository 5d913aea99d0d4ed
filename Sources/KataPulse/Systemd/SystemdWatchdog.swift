import Logging
import NIOCore
import ServiceLifecycle

/// Sends `WATCHDOG=1` at half systemd's watchdog interval, but only while the agent is alive: no collection
/// round stuck for longer than the interval, and every event loop answering. When either fails the pings
/// stop, and systemd restarts the service.
struct SystemdWatchdog: Service {
    let notifier: SystemdNotifier
    let interval: Duration
    let progress: CollectionProgress
    let group: any EventLoopGroup
    let logger: Logger

    func run() async throws {
        // Shutdown must not wait out a sleep of half the watchdog interval.
        await cancelWhenGracefulShutdown { await pingWhileAlive() }
    }

    private func pingWhileAlive() async {
        var wasAlive = true
        while !Task.isCancelled {
            let problem = await livenessProblem()
            if let problem {
                if wasAlive {
                    logger.error("withholding watchdog pings", metadata: ["reason": "\(problem)"])
                }
            } else {
                notifier.watchdog()
                if !wasAlive { logger.info("alive again; watchdog pings resumed") }
            }
            wasAlive = problem == nil
            try? await Task.sleep(for: interval / 2)
        }
    }

    /// Why the agent is not alive, or nil when it is.
    func livenessProblem() async -> String? {
        var configuration = LivenessCheck.Configuration()
        configuration.maxRoundDuration = interval
        configuration.loopDeadline = interval / 4
        return await LivenessCheck(configuration: configuration, progress: progress, group: group).problem()
    }
}
