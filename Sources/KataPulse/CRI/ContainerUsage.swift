/// One running container of a sandbox and what it uses, as the runtime reports it over CRI
/// (`ListContainers` and `ListContainerStats`). For a Kata sandbox the runtime reads the guest's cgroups
/// through the shim: the per-container view cAdvisor on the host cannot have. Values the runtime did not
/// report are nil, never zero.
public struct ContainerUsage: Sendable, Equatable {
    /// What `ListContainers` says about the container.
    public struct Container: Sendable, Equatable {
        public var id: String
        public var sandboxID: String
        /// The container's name in the pod spec.
        public var name: String
        /// The image as the user wrote it when the runtime knows it, else the image the runtime ran.
        public var image: String
        /// Creation time, Unix seconds.
        public var createdAt: Double?

        public init(id: String, sandboxID: String, name: String, image: String, createdAt: Double? = nil) {
            self.id = id
            self.sandboxID = sandboxID
            self.name = name
            self.image = image
            self.createdAt = createdAt
        }
    }

    /// What `ListContainerStats` says about the container; integers as the runtime sent them.
    public struct Stats: Sendable, Equatable {
        public var cpuNanoseconds: UInt64?
        public var workingSetBytes: UInt64?
        public var usageBytes: UInt64?
        public var rssBytes: UInt64?
        public var pageFaults: UInt64?
        public var majorPageFaults: UInt64?
        public var swapBytes: UInt64?
        /// The writable layer's usage and the filesystem it is on.
        public var writableLayerBytes: UInt64?
        public var writableLayerMountpoint: String

        public init(
            cpuNanoseconds: UInt64? = nil, workingSetBytes: UInt64? = nil, usageBytes: UInt64? = nil,
            rssBytes: UInt64? = nil, pageFaults: UInt64? = nil, majorPageFaults: UInt64? = nil,
            swapBytes: UInt64? = nil, writableLayerBytes: UInt64? = nil, writableLayerMountpoint: String = ""
        ) {
            self.cpuNanoseconds = cpuNanoseconds
            self.workingSetBytes = workingSetBytes
            self.usageBytes = usageBytes
            self.rssBytes = rssBytes
            self.pageFaults = pageFaults
            self.majorPageFaults = majorPageFaults
            self.swapBytes = swapBytes
            self.writableLayerBytes = writableLayerBytes
            self.writableLayerMountpoint = writableLayerMountpoint
        }
    }

    public var container: Container
    public var stats: Stats

    public init(container: Container, stats: Stats) {
        self.container = container
        self.stats = stats
    }

    /// Running containers that have stats, by sandbox id, each sandbox's sorted by container name then id.
    public static func bySandbox(containers: [Container], stats: [String: Stats]) -> [String: [ContainerUsage]] {
        var result: [String: [ContainerUsage]] = [:]
        for container in containers where !container.id.isEmpty && !container.sandboxID.isEmpty {
            guard let stats = stats[container.id] else { continue }
            result[container.sandboxID, default: []].append(ContainerUsage(container: container, stats: stats))
        }
        for key in result.keys {
            result[key]!.sort { ($0.container.name, $0.container.id) < ($1.container.name, $1.container.id) }
        }
        return result
    }
}

/// Where per-container usage comes from: the node's container runtime, over CRI (`KataPulseCRI.CRIClient`).
public protocol ContainerUsageSource: Sendable {
    /// The running containers of every pod sandbox.
    func listRunningContainers() async throws(CRIError) -> [ContainerUsage.Container]
    /// Every container's usage, by container id.
    func listContainerStats() async throws(CRIError) -> [String: ContainerUsage.Stats]
}
