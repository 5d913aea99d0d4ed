import NIOCore
import NIOPosix
import Synchronization

/// A peer's address, resolved once on a blocking-work thread and again after a failure (its address may have
/// moved): for the Pushgateway and remote-write receivers.
final class ResolvedAddress: Sendable {
    let host: String
    let port: Int
    private let known = Mutex<SocketAddress?>(nil)

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Name resolution blocks: it runs on `pool`, and only when no address is known.
    func resolve(_ pool: NIOThreadPool) async throws -> SocketAddress {
        if let address = known.withLock({ $0 }) { return address }
        let (host, port) = (self.host, self.port)
        let resolved = try await pool.runIfActive { try SocketAddress.makeAddressResolvingHost(host, port: port) }
        known.withLock { $0 = resolved }
        return resolved
    }

    /// Resolves again next time.
    func forget() { known.withLock { $0 = nil } }
}
