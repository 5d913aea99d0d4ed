import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// PUTs the snapshot to a Pushgateway after every collection round.
///
/// Rounds arrive through a stream that keeps only the newest snapshot and each push has its own deadline,
/// so a Pushgateway that is down or hangs costs skipped pushes, never a delayed round. Failures are counted
/// and logged once per cause; the next round tries again.
public struct PushgatewayExporter: Service {
    let target: PushgatewayTarget
    let exposition: ExpositionSet
    let timeout: Duration
    let snapshots: AsyncStream<Snapshot>
    let counters: ExportCounters
    let group: any EventLoopGroup
    let logger: Logger

    public init(
        target: PushgatewayTarget, exposition: ExpositionSet, timeout: Duration, snapshots: AsyncStream<Snapshot>,
        counters: ExportCounters, group: any EventLoopGroup, logger: Logger
    ) {
        self.target = target
        self.exposition = exposition
        self.timeout = timeout
        self.snapshots = snapshots
        self.counters = counters
        self.group = group
        self.logger = logger
    }

    public func run() async throws {
        // Name resolution blocks; it runs on a thread of its own, once, and again after a failed push.
        let resolver = NIOThreadPool(numberOfThreads: 1)
        resolver.start()
        var address: SocketAddress?
        var loggedCauses: Set<String> = []
        for await snapshot in snapshots.cancelOnGracefulShutdown() {
            let body = TextfileBody.render(snapshot, exposition: exposition)
            do {
                if address == nil {
                    let target = self.target
                    address = try await resolver.runIfActive {
                        try SocketAddress.makeAddressResolvingHost(target.host, port: target.port)
                    }
                }
                let response = try await HTTPExchange.fetch(
                    address!, path: target.path, host: "\(target.host):\(target.port)",
                    headers: [("Content-Type", ExpositionRenderer.contentType)], method: .PUT, body: body,
                    timeout: TimeAmount(timeout), maxBodySize: 64 * 1024, group: group)
                guard (200..<300).contains(response.status) else {
                    let excerpt = String(decoding: response.body.prefix(200), as: UTF8.self)
                    throw PushError(cause: "status \(response.status)", detail: excerpt)
                }
                counters.pushed(at: UnixTime.now())
                if !loggedCauses.isEmpty {
                    logger.info("pushed to the Pushgateway again", metadata: ["url": "\(target.description)"])
                    loggedCauses.removeAll()
                }
            } catch {
                address = nil
                counters.pushFailed()
                let cause = (error as? PushError)?.cause ?? (error as? HTTPExchangeError).map { "\($0)" } ?? "\(error)"
                if loggedCauses.insert(cause).inserted {
                    logger.error(
                        "cannot push to the Pushgateway",
                        metadata: ["url": "\(target.description)", "error": "\(error)"])
                }
            }
        }
        try? await resolver.shutdownGracefully()
    }
}

/// The Pushgateway refused a push.
struct PushError: Error, CustomStringConvertible {
    var cause: String
    var detail: String

    var description: String { "\(cause): \(detail)" }
}
