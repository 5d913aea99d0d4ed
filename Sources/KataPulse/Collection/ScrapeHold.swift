/// Why a sandbox's shim is deliberately not asked for metrics (see ``RuntimeRSGuard``).
public enum ScrapeHold: Sendable, Equatable {
    /// Never asked: a runtime-rs shim of this hypervisor type aborts on `GET /metrics`.
    case skipped(hypervisor: String)
    /// Not asked yet: a runtime-rs sandbox whose `state.json` does not name its hypervisor yet.
    case waiting(reason: String)

    /// What `/sandboxes` and the log say.
    public var message: String {
        switch self {
        case .skipped(let hypervisor):
            "not asked for metrics: runtime-rs \(hypervisor) shims abort on GET /metrics (kata-containers#13708); "
                + "--skip-metrics-hypervisors decides"
        case .waiting(let reason):
            "not asked yet: waiting for runtime-rs to record the hypervisor (\(reason))"
        }
    }
}
