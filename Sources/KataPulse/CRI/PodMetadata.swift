/// What the container runtime (CRI) says about one pod sandbox: the pod it belongs to and how it runs.
public struct PodMetadata: Sendable, Equatable {
    /// Whether the runtime reports the sandbox ready.
    public enum State: String, Sendable {
        case ready
        case notReady = "notready"
    }

    public var uid: String
    public var name: String
    public var namespace: String
    /// Creation time, Unix seconds; nil when the runtime did not say.
    public var createdAt: Double?
    /// The runtime handler (RuntimeClass handler) that runs the sandbox, e.g. `kata`.
    public var runtimeHandler: String
    public var state: State

    public init(
        uid: String, name: String, namespace: String, createdAt: Double? = nil, runtimeHandler: String = "",
        state: State = .ready
    ) {
        self.uid = uid
        self.name = name
        self.namespace = namespace
        self.createdAt = createdAt
        self.runtimeHandler = runtimeHandler
        self.state = state
    }

    /// The CRI labels this metadata gives a sandbox's series.
    public func labels(sandboxID: String) -> SandboxLabels {
        SandboxLabels(sandboxID: sandboxID, criUID: uid, criName: name, criNamespace: namespace)
    }
}
