import Synchronization

/// Outcomes of the push-mode exports, published among the agent's own metrics.
public final class ExportCounters: Sendable {
    private let textfileWrites = Atomic<Int>(0)
    private let textfileFailures = Atomic<Int>(0)
    private let textfileLastWrite = Atomic<UInt64>(0)

    public init() {}

    func textfileWritten(at time: Double) {
        textfileWrites.add(1, ordering: .relaxed)
        textfileLastWrite.store(time.bitPattern, ordering: .relaxed)
    }

    func textfileFailed() {
        textfileFailures.add(1, ordering: .relaxed)
    }

    /// The families describing these counters.
    var families: [MetricFamily] {
        var families = [
            MetricFamily(
                name: "kata_pulse_textfile_write_failures_total",
                help: "Textfile snapshots that could not be written (the previous file stays).", type: .counter,
                samples: [
                    Sample(
                        name: "kata_pulse_textfile_write_failures_total",
                        value: Double(textfileFailures.load(ordering: .relaxed)))
                ]),
            MetricFamily(
                name: "kata_pulse_textfile_writes_total", help: "Textfile snapshots written.", type: .counter,
                samples: [
                    Sample(
                        name: "kata_pulse_textfile_writes_total", value: Double(textfileWrites.load(ordering: .relaxed))
                    )
                ]),
        ]
        let last = Double(bitPattern: textfileLastWrite.load(ordering: .relaxed))
        if last > 0 {
            families.append(
                MetricFamily(
                    name: "kata_pulse_textfile_last_write_timestamp_seconds",
                    help: "Unix time of the last textfile snapshot written.", type: .gauge,
                    samples: [Sample(name: "kata_pulse_textfile_last_write_timestamp_seconds", value: last)]))
        }
        return families
    }
}
