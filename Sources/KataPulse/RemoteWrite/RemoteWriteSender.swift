import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How the agent proves itself to the receivers: HTTP basic authentication or a bearer token, each secret
/// read from its file at every request (so that a rotated secret is picked up).
public enum RemoteWriteAuthorization: Sendable, Equatable {
    case none
    case basic(username: String, passwordFile: String)
    case bearer(tokenFile: String)

    /// The `Authorization` header's value; throws when the secret's file cannot be read.
    func header() throws(FileReadError) -> String? {
        switch self {
        case .none:
            return nil
        case .basic(let username, let passwordFile):
            let password = try Self.secret(passwordFile)
            return "Basic " + Base64.encode(Array(username.utf8) + [UInt8(ascii: ":")] + password)
        case .bearer(let tokenFile):
            return "Bearer " + String(decoding: try Self.secret(tokenFile), as: UTF8.self)
        }
    }

    /// A file's contents without the trailing newline editors add.
    private static func secret(_ path: String) throws(FileReadError) -> [UInt8] {
        var bytes = try FileContents.read(path, limit: 64 * 1024)
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        return bytes
    }
}

/// Sends one receiver's queue, oldest batch first, until the agent stops.
///
/// A batch leaves the queue only when the receiver accepted it (2xx) or refused it for good (another 4xx,
/// counted as failed); a network error, a timeout, a 5xx or a 429 keeps it at the head and it is sent again
/// after a backoff that doubles from ``RemoteWriteExport/Configuration/minBackoff`` to
/// ``RemoteWriteExport/Configuration/maxBackoff``, or after the receiver's `Retry-After`. The sender has its
/// own thread for the queue's file work and name resolution, so nothing here waits on collection or delays it.
struct RemoteWriteSender: Service {
    let index: Int
    let url: RemoteWriteURL
    let queue: RemoteWriteQueue
    let configuration: RemoteWriteExport.Configuration
    let metrics: RemoteWriteMetrics
    /// TLS, for an `https://` receiver.
    let tls: ClientTLS?
    let group: any EventLoopGroup
    let logger: Logger

    /// What the receiver made of one request.
    enum Outcome: Equatable {
        case accepted
        /// Never to succeed: the batch is dropped.
        case rejected(status: Int, message: String)
        /// To be sent again, after `after` when the receiver said when.
        case retry(cause: String, message: String, after: Duration?)
    }

    func run() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        // Shutdown stops the loop between requests: a request under way is finished (or cut at the agent's
        // shutdown deadline), so that one the receiver accepted is not sent again at the next start; whatever
        // was not accepted stays queued for it.
        let stopping = StopSignal()
        await withGracefulShutdownHandler {
            await deliverQueue(pool: pool, stopping: stopping)
        } onGracefulShutdown: { [queue] in
            stopping.raise()
            queue.wakeWaiters()
        }
    }

    /// Set once shutdown begins.
    private final class StopSignal: Sendable {
        private let raised = Mutex(false)
        func raise() { raised.withLock { $0 = true } }
        var isRaised: Bool { raised.withLock { $0 } }
    }

    private func deliverQueue(pool: NIOThreadPool, stopping: StopSignal) async {
        let address = ResolvedAddress(host: url.host, port: url.port)
        let metadata: Logger.Metadata = ["url": "\(url)"]
        var backoff = configuration.minBackoff
        var failing: String?
        var tlsProblem: ClientTLSError?
        while !Task.isCancelled, !stopping.isRaised {
            await queue.waitForBatch()
            guard !Task.isCancelled, !stopping.isRaised,
                let batch = try? await pool.runIfActive({ [queue] in queue.oldest(now: UnixTime.milliseconds()) })
            else { continue }
            let security = await currentSecurity(pool: pool, reported: &tlsProblem, metadata: metadata)
            if tls != nil, security == nil { continue }  // the pool is stopping
            let outcome = await send(batch, address: address, security: security, pool: pool)
            switch outcome {
            case .accepted:
                _ = try? await pool.runIfActive { [queue] in queue.remove(batch.sequence) }
                metrics.accepted(index, batch, at: UnixTime.now())
                backoff = configuration.minBackoff
                if failing != nil {
                    logger.info("remote write delivers again", metadata: metadata)
                    failing = nil
                }
            case .rejected(let status, let message):
                _ = try? await pool.runIfActive { [queue] in queue.drop(batch.sequence, reason: .rejected) }
                logger.error(
                    "remote-write receiver refused a request; dropped",
                    metadata: metadata.merging(
                        ["status": "\(status)", "error": "\(message)", "samples": "\(batch.samples)"]) { $1 })
            case .retry(let cause, let message, let after):
                // Cut short by shutdown: not the receiver's failure; the batch stays queued.
                if Task.isCancelled { return }
                address.forget()
                metrics.retried(index, samples: batch.samples)
                if failing != cause {
                    logger.warning(
                        "cannot deliver to the remote-write receiver; retrying",
                        metadata: metadata.merging(["error": "\(message)"]) { $1 })
                    failing = cause
                }
                try? await Task.sleep(for: after ?? backoff)
                backoff = min(backoff * 2, configuration.maxBackoff)
            }
        }
    }

    /// The TLS for the next request, from files read again; a renewed file that cannot be used leaves the
    /// previous certificates in use and is logged once (`reported` holds what was).
    private func currentSecurity(
        pool: NIOThreadPool, reported: inout ClientTLSError?, metadata: Logger.Metadata
    ) async -> (any ClientConnectionSecurity)? {
        guard let tls, let (security, problem) = try? await pool.runIfActive({ tls.current() }) else { return nil }
        if let problem, problem != reported {
            logger.error(
                "cannot use the renewed TLS files; the previous ones stay in use",
                metadata: metadata.merging(["error": "\(problem)"]) { $1 })
        }
        reported = problem
        return security
    }

    /// POSTs one batch under the request deadline.
    func send(
        _ batch: RemoteWriteQueue.Batch, address: ResolvedAddress, security: (any ClientConnectionSecurity)?,
        pool: NIOThreadPool
    ) async -> Outcome {
        var headers = [
            ("Content-Encoding", "snappy"), ("Content-Type", "application/x-protobuf"),
            ("X-Prometheus-Remote-Write-Version", "0.1.0"),
        ]
        do {
            if let authorization = try await pool.runIfActive({ [configuration] in
                try configuration.authorization.header()
            }) {
                headers.append(("Authorization", authorization))
            }
        } catch {
            return .retry(cause: "credentials", message: "\(error)", after: nil)
        }
        let resolved: SocketAddress
        do {
            resolved = try await address.resolve(pool)
        } catch {
            return .retry(cause: "resolve", message: "\(error)", after: nil)
        }
        do {
            let response = try await HTTPExchange.fetch(
                resolved, path: url.target, host: HostPort.spelled(url.host, url.port), headers: headers,
                method: .POST, body: batch.payload, timeout: TimeAmount(configuration.timeout),
                maxBodySize: 64 * 1024, tls: security.map { ($0, url.host) }, group: group)
            return Self.outcome(of: response, now: UnixTime.now())
        } catch {
            return .retry(cause: "\(error)", message: "\(error)", after: nil)
        }
    }

    /// 2xx accepted; 429 and 5xx retried (after `Retry-After` when given); any other status refused for good.
    static func outcome(of response: HTTPExchangeResponse, now: Double) -> Outcome {
        let status = response.status
        if (200..<300).contains(status) { return .accepted }
        let message = "status \(status): " + String(decoding: response.body.prefix(256), as: UTF8.self)
        if status == 429 || status >= 500 {
            let after = response.header("Retry-After").flatMap { retryAfter($0, now: now) }
            return .retry(cause: "status \(status)", message: message, after: after)
        }
        return .rejected(status: status, message: message)
    }

    /// `Retry-After` as seconds or as an HTTP date (RFC 9110 10.2.3), capped at an hour; nil when unreadable.
    static func retryAfter(_ value: String, now: Double) -> Duration? {
        let text = value.trimmingSpaces()
        let seconds: Double
        if let whole = Int(text), whole >= 0 {
            seconds = Double(whole)
        } else {
            guard let date = httpDate(text) else { return nil }
            seconds = max(0, date - now)
        }
        return .milliseconds(Int(min(seconds, 3600) * 1000))
    }

    /// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) as Unix time; nil for anything else.
    static func httpDate(_ text: String) -> Double? {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let fields = text.split(separator: " ")
        guard fields.count == 6, fields[0].hasSuffix(","), fields[5] == "GMT", let day = Int(fields[1]),
            let month = months.firstIndex(of: String(fields[2])), let year = Int(fields[3])
        else { return nil }
        let clock = fields[4].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3, (1...31).contains(day), (0...23).contains(clock[0]), (0...59).contains(clock[1]),
            (0...60).contains(clock[2])
        else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(clock[0])
        parts.tm_min = Int32(clock[1])
        parts.tm_sec = Int32(clock[2])
        return Double(timegm(&parts))
    }
}
