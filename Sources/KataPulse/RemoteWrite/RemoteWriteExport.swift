import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Prometheus remote write: every round's new samples go into each receiver's durable queue, from which
/// that receiver's ``RemoteWriteSender`` delivers them.
///
/// Queuing is this export's delivery, so a receiver that is down or slow never holds a round back: the
/// queue grows instead (bounded by size and age), and the sender catches up in order when the receiver is
/// back. The series are encoded once per round for all receivers.
public final class RemoteWriteExport: SnapshotExport {
    /// Receivers, labels, queue bounds and delivery timing; off without a receiver.
    public struct Configuration: Sendable, Equatable {
        /// The receivers; each has a queue and a sender of its own. Off when empty.
        public var urls: [RemoteWriteURL] = []
        /// Added to every series that does not carry the label itself.
        public var externalLabels = [Label("instance", HostName.current()), Label("job", "kata-pulse")]
        /// The series sent (nil: the served ones).
        public var exposition: ExpositionSet?
        /// Where the queues live, one folder per receiver.
        public var queueDirectory = "/var/lib/kata-pulse/remote-write"
        /// Most bytes one receiver's queue holds; past it the oldest requests are dropped, counted.
        public var maxQueueBytes = 512 * 1024 * 1024
        /// Requests older than this are dropped unsent, counted (a store refuses samples far in its past).
        public var maxQueueAge: Duration = .seconds(2 * 3600)
        /// Most samples in one request.
        public var maxSamplesPerRequest = 5_000
        /// Deadline of one request, from connecting to the answer's end.
        public var timeout: Duration = .seconds(30)
        /// The first retry's wait; it doubles up to ``maxBackoff``.
        public var minBackoff: Duration = .milliseconds(30)
        public var maxBackoff: Duration = .seconds(5)
        /// HTTP basic authentication: the user, and the file holding the password.
        public var basicAuthUsername: String?
        public var basicAuthPasswordFile: String?
        /// A file holding a bearer token (instead of basic authentication).
        public var bearerTokenFile: String?
        /// TLS to the `https://` receivers.
        public var tls = ClientTLS.Configuration()

        public init() {}

        /// What the credentials settings amount to.
        var authorization: RemoteWriteAuthorization {
            if let bearerTokenFile { return .bearer(tokenFile: bearerTokenFile) }
            if let basicAuthUsername, let basicAuthPasswordFile {
                return .basic(username: basicAuthUsername, passwordFile: basicAuthPasswordFile)
            }
            return .none
        }

        /// Why the credentials settings do not go together, or nil when they do.
        public var credentialsProblem: String? {
            if bearerTokenFile != nil, basicAuthUsername != nil || basicAuthPasswordFile != nil {
                return "remote write takes a bearer token or basic authentication, not both"
            }
            if (basicAuthUsername == nil) != (basicAuthPasswordFile == nil) {
                return "remote write's basic authentication needs both a username and a password file"
            }
            return nil
        }
    }

    let exposition: ExpositionSet
    let configuration: Configuration
    /// Each receiver's queue, in ``Configuration/urls`` order.
    let queues: [RemoteWriteQueue]
    let metrics: RemoteWriteMetrics
    /// TLS to the `https://` receivers; nil when there are none.
    let tls: ClientTLS?
    private let encoder: Mutex<RemoteWriteEncoder>

    /// The export `configuration` asks for, its queues opened and its TLS loaded, or nil when it is off;
    /// `served` is what `/metrics` publishes. Throws a ``TextfileError`` when a queue's folder cannot be made
    /// or read, a ``ClientTLSError`` when a TLS file cannot be used.
    init?(configuration: Configuration, served: ExpositionSet, tlsProvider: (any TLSClientProvider)?) throws {
        guard !configuration.urls.isEmpty else { return nil }
        if configuration.urls.contains(where: \.isSecure) {
            guard let tlsProvider else { throw RemoteWriteSetupError.noTLS }
            self.tls = try ClientTLS(configuration: configuration.tls, provider: tlsProvider)
        } else {
            self.tls = nil
        }
        self.configuration = configuration
        self.exposition = configuration.exposition ?? served
        var queues: [RemoteWriteQueue] = []
        for url in configuration.urls {
            queues.append(
                try RemoteWriteQueue(
                    configuration: .init(
                        directory: configuration.queueDirectory.droppingTrailingSlashes() + "/" + url.queueFolderName,
                        maxBytes: configuration.maxQueueBytes, maxAge: configuration.maxQueueAge)))
        }
        self.queues = queues
        self.metrics = RemoteWriteMetrics(receivers: zip(configuration.urls, queues).map { ("\($0)", $1) })
        self.encoder = Mutex(RemoteWriteEncoder(exposition: exposition, externalLabels: configuration.externalLabels))
    }

    /// One sender per receiver, to run beside the exports.
    func senders(group: any EventLoopGroup, logger: Logger) -> [RemoteWriteSender] {
        zip(configuration.urls, queues).enumerated().map { index, receiver in
            RemoteWriteSender(
                index: index, url: receiver.0, queue: receiver.1, configuration: configuration, metrics: metrics,
                tls: receiver.0.isSecure ? tls : nil, group: group, logger: logger)
        }
    }

    var descriptor: ExportDescriptor {
        ExportDescriptor(
            deliveries: .counter(
                "kata_pulse_remote_write_rounds_queued_total", "Collection rounds queued for remote write."),
            failures: .counter(
                "kata_pulse_remote_write_queue_failures_total",
                "Collection rounds that could not be queued for remote write (the queue's disk failed)."),
            lastDelivery: .gauge(
                "kata_pulse_remote_write_last_queued_timestamp_seconds",
                "Unix time a collection round was last queued for remote write."),
            skippedRounds: .counter(
                "kata_pulse_remote_write_rounds_skipped_total",
                "Collection rounds never queued for remote write because the previous one was still being encoded."),
            failureMessage: "cannot queue samples for remote write",
            recoveryMessage: "queuing samples for remote write again",
            destination: ("queue", configuration.queueDirectory))
    }

    func round(of snapshot: Snapshot, bodies: inout ExportBodies) -> RemoteWriteRound {
        RemoteWriteRound(snapshot)
    }

    /// Encodes the round on the export's thread and appends its requests to every queue.
    func deliver(_ round: RemoteWriteRound, pool: NIOThreadPool) async throws(ExportFailure) {
        let failure: TextfileError?
        do {
            failure = try await pool.runIfActive { [self] in
                let now = UnixTime.milliseconds()
                var failure: TextfileError?
                func enqueue(_ requests: [RemoteWriteRequest]) {
                    for queue in queues {
                        for request in requests {
                            do {
                                try queue.append(
                                    payload: request.payload, samples: request.samples,
                                    highestTimestamp: request.highestTimestamp, now: now)
                            } catch {
                                failure = failure ?? error
                            }
                        }
                    }
                }
                // Each request is queued as soon as it is full: only one request's messages exist at a time.
                var batcher = RemoteWriteBatcher(maxSamples: configuration.maxSamplesPerRequest)
                encoder.withLock { encoder in
                    encoder.encode(round, into: &batcher) { enqueue($0.takeFull()) }
                }
                enqueue([batcher.takeRest()].compactMap { $0 })
                return failure
            }
        } catch {
            throw ExportFailure(cause: "\(error)", description: "\(error)")
        }
        if let failure { throw ExportFailure(cause: failure.cause, description: failure.description) }
    }
}

/// Why remote write cannot start.
enum RemoteWriteSetupError: Error, CustomStringConvertible {
    /// An `https://` receiver, and no TLS stack given to the agent.
    case noTLS

    var description: String { "https:// receivers need a TLS provider" }
}
