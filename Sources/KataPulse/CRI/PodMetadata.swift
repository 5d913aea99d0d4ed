import CRIRuntimeV1

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

extension PodMetadata {
    /// Reads one `ListPodSandbox` item; `created_at` is in nanoseconds, 0 when unknown.
    init(_ sandbox: Runtime_V1_PodSandbox) {
        self.init(
            uid: sandbox.metadata.uid, name: sandbox.metadata.name, namespace: sandbox.metadata.namespace,
            createdAt: sandbox.createdAt > 0 ? Double(sandbox.createdAt) / 1e9 : nil,
            runtimeHandler: sandbox.runtimeHandler, state: sandbox.state == .sandboxReady ? .ready : .notReady)
    }

    /// Metadata by sandbox id from a `ListPodSandbox` response; items without an id are skipped.
    static func index(_ response: Runtime_V1_ListPodSandboxResponse) -> [String: PodMetadata] {
        var index: [String: PodMetadata] = [:]
        index.reserveCapacity(response.items.count)
        for item in response.items where !item.id.isEmpty {
            index[item.id] = PodMetadata(item)
        }
        return index
    }
}
