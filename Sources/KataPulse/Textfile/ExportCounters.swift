import Synchronization

/// Outcomes of the push-mode exports, published among the agent's own metrics.
public final class ExportCounters: OwnMetricsSource {
    private let textfileWrites = Atomic<Int>(0)
    private let textfileFailures = Atomic<Int>(0)
    private let textfileLastWrite = Atomic<UInt64>(0)
    private let pushes = Atomic<Int>(0)
    private let pushFailures = Atomic<Int>(0)
    private let lastPush = Atomic<UInt64>(0)
    /// Which exports are configured: only their families are published.
    let textfile: Bool
    let pushgateway: Bool

    public init(textfile: Bool, pushgateway: Bool) {
        self.textfile = textfile
        self.pushgateway = pushgateway
    }

    func pushed(at time: Double) {
        pushes.add(1, ordering: .relaxed)
        lastPush.store(time.bitPattern, ordering: .relaxed)
    }

    func pushFailed() {
        pushFailures.add(1, ordering: .relaxed)
    }

    func textfileWritten(at time: Double) {
        textfileWrites.add(1, ordering: .relaxed)
        textfileLastWrite.store(time.bitPattern, ordering: .relaxed)
    }

    func textfileFailed() {
        textfileFailures.add(1, ordering: .relaxed)
    }

    /// The families describing the configured exports.
    public var families: [MetricFamily] {
        var families: [MetricFamily] = []
        if textfile {
            families.append(
                counter(
                    "kata_pulse_textfile_write_failures_total",
                    "Textfile snapshots that could not be written (the previous file stays).", textfileFailures))
            families.append(counter("kata_pulse_textfile_writes_total", "Textfile snapshots written.", textfileWrites))
            families += timestamp(
                "kata_pulse_textfile_last_write_timestamp_seconds", "Unix time of the last textfile snapshot written.",
                textfileLastWrite)
        }
        if pushgateway {
            families.append(
                counter(
                    "kata_pulse_pushgateway_push_failures_total", "Pushes to the Pushgateway that failed.", pushFailures
                ))
            families.append(
                counter("kata_pulse_pushgateway_pushes_total", "Snapshots pushed to the Pushgateway.", pushes))
            families += timestamp(
                "kata_pulse_pushgateway_last_push_timestamp_seconds", "Unix time of the last successful push.", lastPush
            )
        }
        return families
    }

    private func counter(_ name: String, _ help: String, _ value: borrowing Atomic<Int>) -> MetricFamily {
        MetricFamily(
            name: name, help: help, type: .counter,
            samples: [Sample(name: name, value: Double(value.load(ordering: .relaxed)))])
    }

    private func timestamp(_ name: String, _ help: String, _ bits: borrowing Atomic<UInt64>) -> [MetricFamily] {
        let value = Double(bitPattern: bits.load(ordering: .relaxed))
        guard value > 0 else { return [] }
        return [MetricFamily(name: name, help: help, type: .gauge, samples: [Sample(name: name, value: value)])]
    }
}
