/// The type of a metric family, as declared by its `# TYPE` line (text format 0.0.4).
public enum MetricType: String, Sendable, Hashable, CaseIterable {
    case counter
    case gauge
    case histogram
    case summary
    case untyped
}

/// One label pair of a sample.
public struct Label: Sendable, Hashable {
    /// The label name; always a valid Prometheus label name.
    public var name: String
    /// The label value, unescaped.
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// One sample line: a series name, its labels in order and a value.
public struct Sample: Sendable {
    /// The full sample name, e.g. `foo_bucket` for a histogram family `foo`.
    public var name: String
    /// Labels in the order they are written.
    public var labels: [Label]
    /// The value; NaN and ±Inf are allowed.
    public var value: Double

    public init(name: String, labels: [Label] = [], value: Double) {
        self.name = name
        self.labels = labels
        self.value = value
    }
}

extension Sample: Equatable {
    /// Values compare by bit pattern so that NaN equals NaN in tests and de-duplication.
    public static func == (lhs: Sample, rhs: Sample) -> Bool {
        lhs.name == rhs.name && lhs.labels == rhs.labels
            && (lhs.value.bitPattern == rhs.value.bitPattern || (lhs.value.isNaN && rhs.value.isNaN))
    }
}

/// A metric family: a name, its HELP and TYPE, and its samples.
public struct MetricFamily: Sendable, Equatable {
    public var name: String
    public var help: String?
    public var type: MetricType
    public var samples: [Sample]

    public init(name: String, help: String? = nil, type: MetricType = .untyped, samples: [Sample] = []) {
        self.name = name
        self.help = help
        self.type = type
        self.samples = samples
    }
}
