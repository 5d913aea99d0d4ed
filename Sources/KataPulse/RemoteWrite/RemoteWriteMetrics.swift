import Synchronization

/// Delivery outcomes of every receiver, published among the agent's own metrics with a `url` label, named
/// after Prometheus' own `prometheus_remote_storage_*` metrics.
final class RemoteWriteMetrics: OwnMetricsSource {
    private struct Outcomes {
        var samples = 0
        var batches = 0
        var bytes = 0
        var retriedSamples = 0
        var highestSent: Int64?
        var lastSend: Double?
    }

    static let samples = OwnMetric.counter(
        "kata_pulse_remote_write_samples_total", "Samples the receiver accepted.")
    static let batches = OwnMetric.counter(
        "kata_pulse_remote_write_requests_total", "Write requests the receiver accepted.")
    static let bytes = OwnMetric.counter(
        "kata_pulse_remote_write_sent_bytes_total", "Compressed request bytes the receiver accepted.")
    static let failedSamples = OwnMetric.counter(
        "kata_pulse_remote_write_failed_samples_total",
        "Samples the receiver refused for good (a 4xx answer other than 429); their requests are not retried.")
    static let retriedSamples = OwnMetric.counter(
        "kata_pulse_remote_write_retried_samples_total",
        "Samples sent again after a recoverable failure (a network error, a 5xx or 429 answer, a timeout).")
    static let droppedSamples = OwnMetric.counter(
        "kata_pulse_remote_write_dropped_samples_total",
        "Samples dropped from the queue unsent, by reason: queue_full, too_old, corrupt, write_failed.")
    static let queueBatches = OwnMetric.gauge(
        "kata_pulse_remote_write_queue_requests", "Write requests waiting in the durable queue.")
    static let queueBytes = OwnMetric.gauge(
        "kata_pulse_remote_write_queue_bytes", "Bytes of the write requests waiting in the durable queue.")
    static let highestSent = OwnMetric.gauge(
        "kata_pulse_remote_write_highest_sent_timestamp_seconds",
        "Newest sample timestamp the receiver accepted, in Unix seconds.")
    static let lastSend = OwnMetric.gauge(
        "kata_pulse_remote_write_last_send_timestamp_seconds", "Unix time the receiver last accepted a request.")

    private let receivers: [(url: String, queue: RemoteWriteQueue)]
    private let outcomes: Mutex<[Outcomes]>

    init(receivers: [(url: String, queue: RemoteWriteQueue)]) {
        self.receivers = receivers
        self.outcomes = Mutex(Array(repeating: Outcomes(), count: receivers.count))
    }

    func accepted(_ receiver: Int, _ batch: RemoteWriteQueue.Batch, at time: Double) {
        outcomes.withLock {
            $0[receiver].samples += batch.samples
            $0[receiver].batches += 1
            $0[receiver].bytes += batch.payload.count
            $0[receiver].highestSent = max($0[receiver].highestSent ?? .min, batch.highestTimestamp)
            $0[receiver].lastSend = time
        }
    }

    func retried(_ receiver: Int, samples: Int) {
        outcomes.withLock { $0[receiver].retriedSamples += samples }
    }

    var families: [MetricFamily] {
        let outcomes = outcomes.withLock { $0 }
        let rows = zip(receivers, outcomes).map { receiver, outcome in
            (Label("url", receiver.url), outcome, receiver.queue.drops, receiver.queue.size)
        }
        func family(_ metric: OwnMetric, _ value: (Outcomes, RemoteWriteQueue.Drops, Int, Int) -> Double?)
            -> MetricFamily
        {
            metric.family(
                rows.compactMap { url, outcome, drops, size in
                    value(outcome, drops, size.batches, size.bytes).map { metric.sample($0, labels: [url]) }
                })
        }
        let dropReasons = RemoteWriteQueue.DropReason.allCases.filter { $0 != .rejected }
        return [
            family(Self.samples) { outcome, _, _, _ in Double(outcome.samples) },
            family(Self.batches) { outcome, _, _, _ in Double(outcome.batches) },
            family(Self.bytes) { outcome, _, _, _ in Double(outcome.bytes) },
            family(Self.failedSamples) { _, drops, _, _ in Double(drops.samples[.rejected, default: 0]) },
            family(Self.retriedSamples) { outcome, _, _, _ in Double(outcome.retriedSamples) },
            Self.droppedSamples.family(
                rows.flatMap { url, _, drops, _ in
                    dropReasons.map { reason in
                        Self.droppedSamples.sample(
                            Double(drops.samples[reason, default: 0]), labels: [Label("reason", reason.rawValue), url])
                    }
                }),
            family(Self.queueBatches) { _, _, batches, _ in Double(batches) },
            family(Self.queueBytes) { _, _, _, bytes in Double(bytes) },
            family(Self.highestSent) { outcome, _, _, _ in outcome.highestSent.map { Double($0) / 1000 } },
            family(Self.lastSend) { outcome, _, _, _ in outcome.lastSend },
        ]
    }
}
