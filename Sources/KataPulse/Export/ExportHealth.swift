import Synchronization

/// Outcomes of the configured exports, published among the agent's own metrics under each export's names.
final class ExportHealth: OwnMetricsSource {
    private struct Outcomes {
        var deliveries = 0
        var failures = 0
        var skipped = 0
        var lastDelivery: Double?
    }

    private let descriptors: [ExportDescriptor]
    private let outcomes: Mutex<[Outcomes]>

    init(_ descriptors: [ExportDescriptor]) {
        self.descriptors = descriptors
        self.outcomes = Mutex(Array(repeating: Outcomes(), count: descriptors.count))
    }

    func delivered(_ export: Int, at time: Double) {
        outcomes.withLock {
            $0[export].deliveries += 1
            $0[export].lastDelivery = time
        }
    }

    func failed(_ export: Int) {
        outcomes.withLock { $0[export].failures += 1 }
    }

    func skipped(_ export: Int) {
        outcomes.withLock { $0[export].skipped += 1 }
    }

    var families: [MetricFamily] {
        let outcomes = outcomes.withLock { $0 }
        return zip(descriptors, outcomes).flatMap { descriptor, outcome in
            [
                descriptor.deliveries.family(Double(outcome.deliveries)),
                descriptor.failures.family(Double(outcome.failures)),
            ] + (outcome.lastDelivery.map { [descriptor.lastDelivery.family($0)] } ?? [])
                + (descriptor.skippedRounds.map { [$0.family(Double(outcome.skipped))] } ?? [])
        }
    }
}
