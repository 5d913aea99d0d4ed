/// One of the agent's own metric families, declared once: its name, type and HELP.
struct OwnMetric: Sendable, Equatable {
    let name: String
    let type: MetricType
    let help: String

    static func counter(_ name: String, _ help: String) -> OwnMetric {
        OwnMetric(name: name, type: .counter, help: help)
    }

    static func gauge(_ name: String, _ help: String) -> OwnMetric {
        OwnMetric(name: name, type: .gauge, help: help)
    }

    static func histogram(_ name: String, _ help: String) -> OwnMetric {
        OwnMetric(name: name, type: .histogram, help: help)
    }

    /// The family with these samples.
    func family(_ samples: [Sample]) -> MetricFamily {
        MetricFamily(name: name, help: help, type: type, samples: samples)
    }

    /// The family with one sample.
    func family(_ value: Double, labels: [Label] = []) -> MetricFamily {
        family([sample(value, labels: labels)])
    }

    /// A sample of this family (not for histograms: see ``histogramSamples(_:labels:)``).
    func sample(_ value: Double, labels: [Label] = []) -> Sample {
        Sample(name: name, labels: labels, value: value)
    }

    /// A histogram's `_bucket` (cumulative, with `+Inf`), `_sum` and `_count` samples.
    func histogramSamples(_ histogram: FixedHistogram, labels: [Label] = []) -> [Sample] {
        var samples: [Sample] = []
        for (bound, count) in zip(histogram.upperBounds, histogram.bucketCounts) {
            samples.append(
                Sample(
                    name: name + "_bucket", labels: labels + [Label("le", Self.boundLabel(bound))],
                    value: Double(count)))
        }
        samples.append(
            Sample(name: name + "_bucket", labels: labels + [Label("le", "+Inf")], value: Double(histogram.count)))
        samples.append(Sample(name: name + "_sum", labels: labels, value: histogram.sum))
        samples.append(Sample(name: name + "_count", labels: labels, value: Double(histogram.count)))
        return samples
    }

    private static func boundLabel(_ bound: Double) -> String {
        var out: [UInt8] = []
        ExpositionRenderer.appendValue(bound, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
