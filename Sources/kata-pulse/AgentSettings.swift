import KataPulse
import KataPulseCRI
import Logging

/// Everything `kata-pulse` (and `run`, `demo`) is configured with: the agent's services' configuration,
/// and what only the executable uses: logging and the CRI client.
struct AgentSettings: Sendable {
    var agent = AgentConfiguration()
    var logging = LoggingSettings()
    /// The CRI client for pod metadata; nil when CRI is off (`--runtime-endpoint none`).
    var cri: CRIClient.Configuration? = CRIClient.Configuration(socketPath: "/run/containerd/containerd.sock")
}

/// How the process logs.
struct LoggingSettings: Sendable {
    var level: Logger.Level = .info
    var format: LogFormat = .auto
}

extension CRIClient.Configuration {
    /// The socket path, or nil for none: what `--runtime-endpoint` sets (the deadline and the rest stay).
    static func endpoint(_ configuration: Self?, path: String?) -> Self? {
        guard let path else { return nil }
        var updated = configuration ?? Self(socketPath: path)
        updated.socketPath = path
        return updated
    }
}
