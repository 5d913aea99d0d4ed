/// Bounds applied to one body (one sandbox) while parsing; a body over any of them is rejected whole.
public struct ExpositionLimits: Sendable, Equatable {
    /// Most samples one body may hold.
    public var maxSeries: Int
    /// Most labels one sample may carry.
    public var maxLabelsPerSeries: Int
    /// Longest label value, in bytes.
    public var maxLabelValueLength: Int
    /// Longest metric or label name, in bytes.
    public var maxNameLength: Int

    public init(
        maxSeries: Int = 20_000,
        maxLabelsPerSeries: Int = 32,
        maxLabelValueLength: Int = 2_048,
        maxNameLength: Int = 256
    ) {
        self.maxSeries = maxSeries
        self.maxLabelsPerSeries = maxLabelsPerSeries
        self.maxLabelValueLength = maxLabelValueLength
        self.maxNameLength = maxNameLength
    }

    /// The defaults documented in the README.
    public static let `default` = ExpositionLimits()

    /// No bounds: for reading the agent's own renderings again (a sandbox's labels come on top of its shim's).
    static let unlimited = ExpositionLimits(
        maxSeries: .max, maxLabelsPerSeries: .max, maxLabelValueLength: .max, maxNameLength: .max)
}
