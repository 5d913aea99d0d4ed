import NIOCore
import NIOPosix

/// PUTs the snapshot to a Pushgateway after every collection round, each push under its own deadline.
public final class PushgatewayExport: SnapshotExport {
    /// Where to push and the grouping key; off without a URL.
    public struct Configuration: Sendable {
        /// The Pushgateway; the export is off when nil.
        public var url: PushgatewayURL?
        /// The push's `job` label.
        public var job = "kata-pulse"
        /// The push's `instance` label.
        public var instance = HostName.current()
        /// Deadline of one push.
        public var timeout: Duration = .seconds(5)

        public init() {}
    }

    let target: PushgatewayTarget
    let exposition: ExpositionSet
    let timeout: Duration
    let group: any EventLoopGroup
    /// Resolved again after a failed push.
    private let address: ResolvedAddress

    /// The export `configuration` asks for, or nil when it is off; `served` is what `/metrics` publishes.
    init?(configuration: Configuration, served: ExpositionSet, group: any EventLoopGroup) {
        guard let url = configuration.url else { return nil }
        self.target = PushgatewayTarget(url: url, job: configuration.job, instance: configuration.instance)
        self.address = ResolvedAddress(host: url.host, port: url.port)
        self.exposition = served
        self.timeout = configuration.timeout
        self.group = group
    }

    var descriptor: ExportDescriptor {
        ExportDescriptor(
            deliveries: .counter("kata_pulse_pushgateway_pushes_total", "Snapshots pushed to the Pushgateway."),
            failures: .counter("kata_pulse_pushgateway_push_failures_total", "Pushes to the Pushgateway that failed."),
            lastDelivery: .gauge(
                "kata_pulse_pushgateway_last_push_timestamp_seconds", "Unix time of the last successful push."),
            failureMessage: "cannot push to the Pushgateway", recoveryMessage: "pushed to the Pushgateway again",
            destination: ("url", target.description))
    }

    func deliver(_ body: [UInt8], pool: NIOThreadPool) async throws(ExportFailure) {
        do {
            let response = try await HTTPExchange.fetch(
                try await address.resolve(pool), path: target.path, host: "\(target.host):\(target.port)",
                headers: [("Content-Type", ExpositionRenderer.contentType)], method: .PUT, body: body,
                timeout: TimeAmount(timeout), maxBodySize: 64 * 1024, group: group)
            guard (200..<300).contains(response.status) else {
                let excerpt = String(decoding: response.body.prefix(200), as: UTF8.self)
                throw ExportFailure(
                    cause: "status \(response.status)", description: "status \(response.status): \(excerpt)")
            }
        } catch {
            address.forget()
            if let failure = error as? ExportFailure { throw failure }
            throw ExportFailure(cause: "\(error)", description: "\(error)")
        }
    }
}
