import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps collection from killing sandboxes: runtime-rs shims answer `GET /metrics` for QEMU and Firecracker
/// sandboxes with a panic that aborts the shim and takes the sandbox down (kata-containers#13708, `todo!()` in
/// their `get_hypervisor_metrics`). Before a runtime-rs shim is asked, its `state.json` says which hypervisor
/// runs the sandbox; the skipped ones are never asked, and one whose VM has not started yet (no `state.json`)
/// waits.
public struct RuntimeRSGuard: Sendable {
    /// Which sandboxes are runtime-rs's and which hypervisors are not asked.
    public struct Configuration: Sendable {
        /// The hypervisor types whose runtime-rs shims abort on `/metrics` in every release so far.
        public static let defaultSkippedHypervisors: Set<String> = ["qemu", "firecracker"]

        /// runtime-rs hypervisor types (`state.json`'s `hypervisor.hypervisor_type`) never asked for metrics;
        /// empty asks every shim.
        public var skippedHypervisors = defaultSkippedHypervisors
        /// Sandbox roots whose sandboxes are runtime-rs's: there, a sandbox without `state.json` is not asked
        /// yet. A sandbox under any root whose directory holds a `state.json` is treated as runtime-rs's too.
        public var runtimeRSRoots = [SandboxRegistry.Configuration.runtimeRSRoot]

        public init() {}
    }

    /// The largest `state.json` read; runtime-rs writes a few kilobytes (the sandbox's configuration).
    static let stateSizeLimit = 1 << 20

    let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Why the shim listening at `socketPath` (`<root>/<id>/shim-monitor.sock`) must not be asked now; nil
    /// when it may be.
    public func hold(socketPath: String) -> ScrapeHold? {
        let directory = String(socketPath.dropLast(ShimSocketLocator.socketName.count + 1))
        let statePath = directory + "/state.json"
        let isRuntimeRS = configuration.runtimeRSRoots.contains { socketPath.hasPrefix($0 + "/") }
        let bytes: [UInt8]
        do {
            bytes = try FileContents.read(statePath, limit: Self.stateSizeLimit)
        } catch {
            // No state.json: a Go-runtime sandbox, or a runtime-rs one whose VM has not started.
            guard isRuntimeRS || error.errorNumber != ENOENT else { return nil }
            return .waiting(reason: "\(error)")
        }
        guard let hypervisor = Self.hypervisorType(stateJSON: bytes) else {
            // Written non-atomically by runtime-rs: a partial file is read again next time.
            return .waiting(reason: "\(statePath) does not name the hypervisor (hypervisor.hypervisor_type)")
        }
        return configuration.skippedHypervisors.contains(hypervisor) ? .skipped(hypervisor: hypervisor) : nil
    }

    /// `hypervisor.hypervisor_type` of a runtime-rs `state.json`; nil when the text is not such a document.
    static func hypervisorType(stateJSON bytes: [UInt8]) -> String? {
        struct State: Decodable {
            struct Hypervisor: Decodable {
                var type: String
                enum CodingKeys: String, CodingKey { case type = "hypervisor_type" }
            }
            var hypervisor: Hypervisor
        }
        guard let state = try? JSONDecoder().decode(State.self, from: Data(bytes)) else { return nil }
        let type = state.hypervisor.type
        return type.isEmpty ? nil : type
    }
}
