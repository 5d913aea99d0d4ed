import NIOCore
import Synchronization

/// Bounds what API clients can hold: open connections and requests answered at once. Its families are read
/// with each round's snapshot, as the other own metrics are (so they are as old as the last round).
///
/// Past the connection cap, the connection idle longest (no request in progress: a keep-alive idler or a head
/// that never completed) is closed to make room, so a real scraper always gets in and a flood of idle
/// connections never takes the descriptors collection needs. Counts what it closes and refuses.
final class ConnectionLimiter: OwnMetricsSource {
    /// Why the server closed or refused a connection.
    enum Closure: String, CaseIterable {
        /// Closed to make room for a new connection (the longest idle one).
        case evicted
        /// Its request head did not arrive in full within the read-header timeout.
        case headTimeout = "head_timeout"
        /// No request for the keep-alive idle timeout.
        case idleTimeout = "idle_timeout"
        /// Refused at once: every open connection had a request in progress.
        case refused
    }

    private struct Entry {
        let channel: any Channel
        var busy = false
        var idleSince: NIODeadline
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var closures: [Closure: Int] = [:]
        var inFlight = 0
        var rejectedRequests = 0
    }

    let maxConnections: Int
    let maxRequests: Int
    private let state = Mutex(State())

    static let connections = OwnMetric.gauge("kata_pulse_http_connections", "Open connections to the HTTP API.")
    static let closed = OwnMetric.counter(
        "kata_pulse_http_connections_closed_total",
        "Connections to the HTTP API closed or refused by the agent, by reason.")
    static let rejected = OwnMetric.counter(
        "kata_pulse_http_requests_rejected_total",
        "Requests answered 503 because as many requests as allowed were being answered.")

    init(configuration: MetricsServer.Configuration) {
        self.maxConnections = max(1, configuration.maxConnections)
        self.maxRequests = max(1, configuration.maxRequests)
    }

    /// Registers a new connection, closing the longest idle one first when at the cap; false when every open
    /// connection has a request in progress and this one must be refused.
    func admit(_ channel: any Channel) -> Bool {
        var victim: (any Channel)?
        let admitted = state.withLock { state -> Bool in
            if state.entries.count >= maxConnections {
                guard
                    let oldest = state.entries.filter({ !$0.value.busy }).min(by: {
                        $0.value.idleSince < $1.value.idleSince
                    })
                else {
                    state.closures[.refused, default: 0] += 1
                    return false
                }
                state.entries[oldest.key] = nil
                state.closures[.evicted, default: 0] += 1
                victim = oldest.value.channel
            }
            state.entries[ObjectIdentifier(channel)] = Entry(channel: channel, idleSince: .now())
            return true
        }
        victim?.close(promise: nil)
        // However the connection ends (even before its pipeline is complete), its entry goes.
        if admitted { channel.closeFuture.whenComplete { _ in self.closed(channel) } }
        return admitted
    }

    /// A request head arrived on `channel`: it is busy until its response is written.
    func requestStarted(on channel: any Channel) {
        state.withLock { $0.entries[ObjectIdentifier(channel)]?.busy = true }
    }

    /// The response on `channel` is written: it is idle from now.
    func requestFinished(on channel: any Channel) {
        state.withLock {
            $0.entries[ObjectIdentifier(channel)]?.busy = false
            $0.entries[ObjectIdentifier(channel)]?.idleSince = .now()
        }
    }

    /// The server closes `channel` for `reason`.
    func closing(_ channel: any Channel, because reason: Closure) {
        state.withLock { $0.closures[reason, default: 0] += 1 }
    }

    /// `channel` is closed, by either side.
    func closed(_ channel: any Channel) {
        _ = state.withLock { $0.entries.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Starts answering a request; false (answer 503) when as many as allowed are being answered.
    func beginRequest() -> Bool {
        state.withLock { state in
            guard state.inFlight < maxRequests else {
                state.rejectedRequests += 1
                return false
            }
            state.inFlight += 1
            return true
        }
    }

    func endRequest() {
        state.withLock { $0.inFlight -= 1 }
    }

    /// Open connections now.
    var openConnections: Int { state.withLock { $0.entries.count } }

    /// Requests being answered now.
    var requestsInFlight: Int { state.withLock { $0.inFlight } }

    /// Connections closed or refused for `reason` so far.
    func count(_ reason: Closure) -> Int { state.withLock { $0.closures[reason, default: 0] } }

    public var families: [MetricFamily] {
        let state = state.withLock { ($0.entries.count, $0.closures, $0.rejectedRequests) }
        return [
            Self.connections.family(Double(state.0)),
            Self.closed.family(
                Closure.allCases.map {
                    Self.closed.sample(Double(state.1[$0, default: 0]), labels: [Label("reason", $0.rawValue)])
                }),
            Self.rejected.family(Double(state.2)),
        ]
    }
}
