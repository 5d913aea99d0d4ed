import Logging
import Synchronization

/// Limits how often one message is logged for one sandbox, so a shim failing every round cannot flood the
/// journal: at most `burst` entries per key per `window`; what is held back is counted and reported with the
/// next entry let through.
public final class LogRateLimiter: Sendable {
    private struct Bucket {
        var windowStart: ContinuousClock.Instant
        var count: Int
        var suppressed: Int
    }

    private let burst: Int
    private let window: Duration
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(burst: Int = 5, window: Duration = .seconds(60)) {
        self.burst = burst
        self.window = window
    }

    /// Whether an entry may be logged now; if so, how many like it were held back before.
    func admit(_ key: String, now: ContinuousClock.Instant = .now) -> (allowed: Bool, suppressed: Int) {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(windowStart: now, count: 0, suppressed: 0)
            if now - bucket.windowStart >= window {
                bucket.windowStart = now
                bucket.count = 0
            }
            bucket.count += 1
            if bucket.count > burst {
                bucket.suppressed += 1
                buckets[key] = bucket
                return (false, 0)
            }
            let suppressed = bucket.suppressed
            bucket.suppressed = 0
            buckets[key] = bucket
            if buckets.count > 10_000 { buckets.removeAll() }  // bounded, whatever the keys
            return (true, suppressed)
        }
    }
}

/// A handler that passes entries through a ``LogRateLimiter`` keyed by message and `sandbox_id`.
public struct RateLimitedLogHandler: LogHandler {
    private var wrapped: any LogHandler
    private let limiter: LogRateLimiter

    public init(_ wrapped: any LogHandler, limiter: LogRateLimiter) {
        self.wrapped = wrapped
        self.limiter = limiter
    }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        let sandbox = event.metadata?["sandbox_id"]?.description ?? metadata["sandbox_id"]?.description ?? ""
        let (allowed, suppressed) = limiter.admit("\(event.message)\u{0}\(sandbox)")
        guard allowed else { return }
        var event = event
        if suppressed > 0 {
            var extra = event.metadata ?? [:]
            extra["suppressed"] = "\(suppressed)"
            event.metadata = extra
        }
        wrapped.log(event: event)
    }
}
