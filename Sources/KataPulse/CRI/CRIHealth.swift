import Synchronization

/// How the agent's conversation with the CRI runtime is going: reachability, call counts, errors and
/// latencies, and how many sandboxes still wait for metadata. Written by the ``MetadataResolver``, read by
/// snapshots (as `kata_pulse_cri_*` families), systemd's status line and `/sandboxes`.
public final class CRIHealth: OwnMetricsSource {
    /// Whether the runtime answered its last call.
    public enum Reachability: Sendable, Equatable {
        /// No call has finished yet.
        case unknown
        case reachable
        case unreachable(CRIError)
    }

    struct State {
        var reachability = Reachability.unknown
        var calls: [CRIMethod: Int] = [:]
        var errors: [CRIMethod: [String: Int]] = [:]
        var durations: [CRIMethod: FixedHistogram] = [:]
        var lastSuccess: Double?
        var pendingSandboxes = 0
        var everReachable = false
    }

    /// The runtime's socket path.
    public let endpoint: String
    private let state = Mutex(State())
    static let durationBounds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    public init(endpoint: String) {
        self.endpoint = endpoint
    }

    /// Records one finished call.
    func record(_ method: CRIMethod, seconds: Double, error: CRIError?, at now: Double) {
        state.withLock { state in
            state.calls[method, default: 0] += 1
            state.durations[method, default: FixedHistogram(upperBounds: Self.durationBounds)].observe(seconds)
            if let error { state.errors[method, default: [:]][error.code, default: 0] += 1 }
            // Reachability follows the pod metadata calls: a runtime that answers those but not, say,
            // ListContainerStats (Unimplemented) is reachable, its failures counted per method.
            guard method.decidesReachability else { return }
            if let error {
                state.reachability = .unreachable(error)
            } else {
                state.reachability = .reachable
                state.lastSuccess = now
                state.everReachable = true
            }
        }
    }

    /// Makes one call, recording its duration and outcome.
    func measure<T: Sendable>(
        _ method: CRIMethod, isolation: isolated (any Actor)? = #isolation, _ call: () async throws(CRIError) -> T
    ) async throws(CRIError) -> T {
        let started = ContinuousClock.now
        do {
            let value = try await call()
            record(method, seconds: (ContinuousClock.now - started).seconds, error: nil, at: UnixTime.now())
            return value
        } catch {
            record(method, seconds: (ContinuousClock.now - started).seconds, error: error, at: UnixTime.now())
            throw error
        }
    }

    func setPendingSandboxes(_ count: Int) {
        state.withLock { $0.pendingSandboxes = count }
    }

    public var reachability: Reachability { state.withLock { $0.reachability } }

    /// Discovered sandboxes the runtime has not described yet.
    public var pendingSandboxes: Int { state.withLock { $0.pendingSandboxes } }

    /// A phrase for systemd's status line while the runtime is unreachable; nil otherwise. A runtime that never
    /// answered is said to be absent (a host without Kubernetes), one that did to be unreachable.
    public var problem: String? {
        let (reachability, everReachable) = state.withLock { ($0.reachability, $0.everReachable) }
        guard case .unreachable(let error) = reachability else { return nil }
        return everReachable
            ? "CRI unreachable at \(endpoint) (\(error.code))" : "no CRI runtime at \(endpoint) (\(error.code))"
    }

    static let up = OwnMetric.gauge(
        "kata_pulse_cri_up",
        "Whether the CRI runtime answered the last pod metadata call (Version, ListPodSandbox) (1) or not (0).")
    static let calls = OwnMetric.counter("kata_pulse_cri_calls_total", "Calls made to the CRI runtime, by method.")
    static let callErrors = OwnMetric.counter(
        "kata_pulse_cri_call_errors_total", "Failed calls to the CRI runtime, by method and gRPC status code.")
    static let callDurations = OwnMetric.histogram(
        "kata_pulse_cri_call_duration_seconds", "Duration of calls to the CRI runtime, by method.")
    static let pending = OwnMetric.gauge(
        "kata_pulse_sandbox_metadata_pending", "Discovered sandboxes the CRI runtime has not described yet.")
    static let lastSuccess = OwnMetric.gauge(
        "kata_pulse_cri_last_success_timestamp_seconds",
        "Unix time of the last successful pod metadata call to the CRI runtime.")

    public var families: [MetricFamily] {
        let state = state.withLock { $0 }
        let methods = CRIMethod.allCases.sorted { $0.rawValue < $1.rawValue }
        return [
            Self.up.family(state.reachability == .reachable ? 1 : 0),
            Self.calls.family(
                methods.map {
                    Self.calls.sample(Double(state.calls[$0, default: 0]), labels: [Label("method", $0.rawValue)])
                }),
            Self.callErrors.family(
                methods.flatMap { method in
                    state.errors[method, default: [:]].sorted { $0.key < $1.key }.map { code, count in
                        Self.callErrors.sample(
                            Double(count), labels: [Label("method", method.rawValue), Label("code", code)])
                    }
                }),
            Self.callDurations.family(
                methods.flatMap { method in
                    Self.callDurations.histogramSamples(
                        state.durations[method, default: FixedHistogram(upperBounds: Self.durationBounds)],
                        labels: [Label("method", method.rawValue)])
                }),
            Self.pending.family(Double(state.pendingSandboxes)),
        ] + (state.lastSuccess.map { [Self.lastSuccess.family($0)] } ?? [])
    }
}
