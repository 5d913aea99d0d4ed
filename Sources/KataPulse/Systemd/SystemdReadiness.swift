import ServiceLifecycle

/// Sends `READY=1` once the API serves and the first discovery pass is done, `STATUS=` after every
/// collection round, and `STOPPING=1` when shutdown begins.
///
/// Readiness does not wait for the first collection round: that can take a whole shim deadline, and
/// `/metrics` answers (with what is known) from the start.
struct SystemdReadiness: Service {
    let notifier: SystemdNotifier
    let registry: SandboxRegistry
    let listening: AsyncStream<[ListenAddress]>
    let rounds: AsyncStream<RoundSummary>
    /// Named in the status line while the runtime is unreachable.
    var criHealth: CRIHealth? = nil

    func run() async throws {
        guard notifier.isEnabled else { return }
        var addresses: [ListenAddress] = []
        for await bound in listening.cancelOnGracefulShutdown() {
            addresses = bound
            break
        }
        guard !addresses.isEmpty else { return notifier.stopping() }
        while !(await registry.isReady) && !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let count = await registry.sandboxes.count
        notifier.ready(
            status: "serving on \(addresses.map(\.description).joined(separator: ", ")); \(count) sandboxes discovered")
        for await summary in rounds.cancelOnGracefulShutdown() {
            notifier.status(summary.statusLine + (criHealth?.problem.map { "; \($0)" } ?? ""))
        }
        notifier.stopping()
    }
}
