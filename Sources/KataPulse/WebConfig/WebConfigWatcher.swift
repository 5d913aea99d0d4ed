import Logging
import ServiceLifecycle

/// Checks the web configuration for changes every ``WebAccess/Configuration/checkInterval`` (polling, since a
/// Kubernetes Secret is updated by swapping a symlink), logging a reload once and a refused change once per
/// distinct problem.
struct WebConfigWatcher: Service {
    let access: WebAccess
    let logger: Logger

    func run() async throws {
        guard let file = access.configuration.file else { return }
        await cancelWhenGracefulShutdown { await watch(file) }
    }

    private func watch(_ file: String) async {
        var lastProblem: WebConfigurationError?
        while (try? await Task.sleep(for: access.configuration.checkInterval)) != nil {
            switch access.reloadIfChanged() {
            case .unchanged:
                continue
            case .reloaded:
                lastProblem = nil
                logger.info("web configuration reloaded", metadata: ["file": "\(file)"])
            case .refused(let problem):
                guard problem != lastProblem else { continue }
                lastProblem = problem
                logger.error(
                    "web configuration change refused; keeping the one in force",
                    metadata: ["file": "\(file)", "error": "\(problem)"])
            }
        }
    }
}
